package gocd.agent.scaler.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A warm-pool agent takes one job and never a second, whatever order or concurrency GoCD asks in. */
class PoolClaimsTest {
    static final String INSTANCE = "5f3a9c01";
    static final String PROFILE = "{\"image\":\"gocd/gocd-agent-debian-12:v25.1.0\",\"warm_pool_size\":\"3\"}";
    static final String CLUSTER = "{\"go_server_url\":\"https://gocd.example.com/go\",\"cluster_id\":\"ci\"}";

    static String hash() {
        return ShouldAssignWorkRule.profileHash("ci", new com.google.gson.JsonPrimitive("prod"), com.google.gson.JsonParser.parseString(PROFILE));
    }

    static String agent(int n) {
        return "ea-pool-" + hash() + "-" + INSTANCE + "-" + String.format("%08x", n);
    }

    static String ask(String agentId, long jobId) {
        return "{\"environment\":\"prod\",\"agent\":{\"agent_id\":\"" + agentId + "\",\"agent_state\":\"Idle\",\"build_state\":\"Idle\",\"config_state\":\"Enabled\"},"
                + "\"elastic_agent_profile_properties\":" + PROFILE + ",\"cluster_profile_properties\":" + CLUSTER
                + ",\"job_identifier\":{\"pipeline_name\":\"app\",\"pipeline_counter\":7,\"pipeline_label\":\"7\",\"stage_name\":\"test\",\"stage_counter\":\"1\",\"job_name\":\"build\",\"job_id\":" + jobId + "}}";
    }

    @Test
    void aPoolAgentThatTookAJobIsRefusedTheNextOneEvenWhenGocdAsksAgainBeforeJobCompletion() {
        PoolClaims claims = new PoolClaims(INSTANCE);
        assertTrue(claims.shouldAssignWork(ask(agent(1), 200)));
        // Its job ended; GoCD's job-completion has not removed it yet, and the agent asks for work again.
        assertFalse(claims.shouldAssignWork(ask(agent(1), 201)));
        assertTrue(claims.shouldAssignWork(ask(agent(1), 200)), "the same job asked again is still its own");
        assertTrue(claims.shouldAssignWork(ask(agent(2), 201)), "another pool agent takes the next job");
    }

    @Test
    void aRestartedForwarderGivesNoJobToAPoolAgentOfItsPreviousInstance() {
        PoolClaims before = new PoolClaims(INSTANCE);
        assertTrue(before.shouldAssignWork(ask(agent(1), 200)));
        PoolClaims after = new PoolClaims();
        assertFalse(after.instance().equals(INSTANCE));
        assertFalse(after.shouldAssignWork(ask(agent(1), 201)), "a used pool agent stays unusable after a restart");
        assertFalse(after.shouldAssignWork(ask(agent(3), 201)), "so does an unused one of the old instance");
    }

    @Test
    void parallelQuestionsGiveNoPoolAgentTwoJobs() throws Exception {
        PoolClaims claims = new PoolClaims(INSTANCE);
        int agents = 6;
        int jobs = 10;
        Map<String, Set<Long>> given = new ConcurrentHashMap<>();
        ExecutorService threads = Executors.newFixedThreadPool(8);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            final int seed = t;
            done.add(threads.submit(() -> {
                go.await();
                for (int i = 0; i < 200; i++) {
                    String a = agent((seed + i) % agents);
                    long job = 300 + ((seed * 7L + i * 3L) % jobs);
                    if (claims.shouldAssignWork(ask(a, job))) given.computeIfAbsent(a, k -> ConcurrentHashMap.newKeySet()).add(job);
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : done) f.get(60, TimeUnit.SECONDS);
        threads.shutdown();
        assertEquals(agents, given.size(), "every pool agent took a job");
        for (Map.Entry<String, Set<Long>> e : given.entrySet()) assertEquals(1, e.getValue().size(), e.getKey() + " got " + e.getValue());
    }

    @Test
    void theOldestClaimsGoFirstBeyondTheBound() {
        PoolClaims claims = new PoolClaims(INSTANCE);
        for (int i = 0; i <= PoolClaims.MAX_CLAIMS; i++) claims.claim("a" + i, i);
        assertEquals(null, claims.claimedJob("a0"));
        assertEquals(Long.valueOf(PoolClaims.MAX_CLAIMS), claims.claimedJob("a" + PoolClaims.MAX_CLAIMS));
    }
}
