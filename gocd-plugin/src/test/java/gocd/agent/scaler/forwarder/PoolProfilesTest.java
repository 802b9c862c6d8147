package gocd.agent.scaler.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every server-ping carries the warm-pooled profiles of the last 24 hours' create-agents, so any service process refills them. */
class PoolProfilesTest {
    static final String CLUSTER = "{\"go_server_url\":\"https://gocd.example.com/go\",\"cluster_id\":\"ci\"}";
    static final String JOB = "{\"pipeline_name\":\"app\",\"pipeline_counter\":7,\"pipeline_label\":\"7\",\"stage_name\":\"test\",\"stage_counter\":\"1\",\"job_name\":\"build\",\"job_id\":100}";
    static final String PING = "{\"all_cluster_profile_properties\":[" + CLUSTER + "]}";

    private TestSupport.FakeScaler scaler;
    private ForwarderPlugin plugin;
    private final JobWaitsTest.StepClock clock = new JobWaitsTest.StepClock();

    @BeforeEach
    void start() throws Exception {
        scaler = new TestSupport.FakeScaler();
        plugin = TestSupport.plugin(scaler.url(), clock);
        plugin.initializeGoApplicationAccessor(new TestSupport.RecordingAccessor());
    }

    @AfterEach
    void stop() {
        scaler.close();
    }

    private void create(String size) {
        String body = "{\"auto_register_key\":\"the-key\",\"environment\":\"prod\",\"elastic_agent_profile_properties\":{\"image\":\"a:1\",\"warm_pool_size\":\""
                + size + "\"},\"cluster_profile_properties\":" + CLUSTER + ",\"job_identifier\":" + JOB + "}";
        plugin.handle(TestSupport.request(ForwarderPlugin.CREATE_AGENT, body));
    }

    private JsonElement pingPools() {
        plugin.handle(TestSupport.request(ForwarderPlugin.SERVER_PING, PING));
        return JsonParser.parseString(scaler.seen.get(scaler.seen.size() - 1).body).getAsJsonObject().get("warm_pools");
    }

    @Test
    void sendsThePooledProfileOfACreateAgentWithEveryPingOnceResizedOnceAndNotAfterTwentyFourHours() {
        create("2");
        create("3"); // resized: the same profile, one entry
        JsonElement expected = JsonParser.parseString("[{\"cluster_profile_properties\":" + CLUSTER
                + ",\"elastic_agent_profile_properties\":{\"image\":\"a:1\",\"warm_pool_size\":\"3\"},\"environment\":\"prod\",\"auto_register_key\":\"the-key\"}]");
        assertEquals(expected, pingPools());
        assertEquals(expected, pingPools(), "every ping, not once");
        clock.now = clock.now.plus(Duration.ofHours(25));
        assertNull(pingPools());
    }

    @Test
    void forgetsAProfileResizedToNoPoolAndNeverSendsAProfileWithoutOne() {
        create("2");
        create("0");
        assertNull(pingPools());
        create("not a number");
        assertNull(pingPools());
    }
}
