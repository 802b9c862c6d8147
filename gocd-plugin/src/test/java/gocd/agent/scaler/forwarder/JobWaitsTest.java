package gocd.agent.scaler.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Each job's wait for its agent, measured on GoCD's clock by the forwarder and reported with the next server-ping. */
class JobWaitsTest {
    /** A clock the test moves. */
    static final class StepClock extends Clock {
        Instant now = Instant.parse("2026-12-07T09:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneId.of("UTC");
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    static final String CLUSTER = "{\"go_server_url\":\"https://gocd.example.com/go\"}";
    static final String JOB = "{\"pipeline_name\":\"app\",\"pipeline_counter\":7,\"pipeline_label\":\"7\",\"stage_name\":\"test\",\"stage_counter\":\"1\",\"job_name\":\"build\",\"job_id\":100}";
    static final String PING = "{\"all_cluster_profile_properties\":[" + CLUSTER + "]}";

    private TestSupport.FakeScaler scaler;
    private ForwarderPlugin plugin;
    private final StepClock clock = new StepClock();

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

    private void ask(long jobId) {
        String body = "{\"agent\":{\"agent_id\":\"ea-100-81636904\",\"agent_state\":\"Idle\",\"build_state\":\"Idle\",\"config_state\":\"Enabled\"},"
                + "\"elastic_agent_profile_properties\":{\"image\":\"gocd/gocd-agent-debian-12:v25.1.0\"},\"cluster_profile_properties\":" + CLUSTER
                + ",\"job_identifier\":" + JOB.replace("\"job_id\":100", "\"job_id\":" + jobId) + "}";
        plugin.handle(TestSupport.request(ForwarderPlugin.SHOULD_ASSIGN_WORK, body));
    }

    private JsonObject lastPing() {
        plugin.handle(TestSupport.request(ForwarderPlugin.SERVER_PING, PING));
        return JsonParser.parseString(scaler.seen.get(scaler.seen.size() - 1).body).getAsJsonObject();
    }

    @Test
    void reportsFromTheFirstCreateAgentToTheFirstTrueAnswerOnceWithTheNextServerPing() {
        String create = "{\"auto_register_key\":\"k\",\"elastic_agent_profile_properties\":{},\"cluster_profile_properties\":" + CLUSTER + ",\"job_identifier\":" + JOB + "}";
        plugin.handle(TestSupport.request(ForwarderPlugin.CREATE_AGENT, create));
        clock.now = clock.now.plusMillis(30_000);
        plugin.handle(TestSupport.request(ForwarderPlugin.CREATE_AGENT, create)); // GoCD's re-send: the first counts
        clock.now = clock.now.plusMillis(4_500);
        ask(100);
        clock.now = clock.now.plusMillis(1_000);
        ask(100); // asked again: the first true answer counts
        JsonObject ping = lastPing();
        assertEquals(JsonParser.parseString("[{\"agent_id\":\"ea-100-81636904\",\"job_id\":100,\"wait_ms\":34500,\"warm\":false}]"),
                ping.get("job_waits"));
        assertNull(lastPing().get("job_waits"), "each wait is reported once");
    }

    @Test
    void aJobWhoseCreateAgentThisForwarderNeverSawIsNotMeasured() {
        ask(100);
        assertNull(lastPing().get("job_waits"));
    }
}
