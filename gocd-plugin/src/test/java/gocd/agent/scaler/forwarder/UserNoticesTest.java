package gocd.agent.scaler.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.thoughtworks.go.plugin.api.request.GoApiRequest;
import com.thoughtworks.go.plugin.api.response.GoPluginApiResponse;
import java.time.Duration;
import java.time.LocalTime;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The reply's console and health entries, told to GoCD through the accessor after the answer is settled. */
class UserNoticesTest {
    static final String LINE = "{\"pipeline_name\":\"app\",\"pipeline_counter\":7,\"stage_name\":\"test\",\"stage_counter\":\"1\",\"job_name\":\"build\","
            + "\"text\":\"Launched elastic agent ea-7-0a1b2c3d\"}";
    static final String HEALTH = "[{\"type\":\"error\",\"message\":\"cluster profile ci: AccessDenied\"},{\"type\":\"warning\",\"message\":\"no room\"}]";

    private TestSupport.FakeScaler scaler;
    private TestSupport.RecordingAccessor accessor;
    private ForwarderPlugin plugin;

    @BeforeEach
    void start() throws Exception {
        scaler = new TestSupport.FakeScaler();
        accessor = new TestSupport.RecordingAccessor();
        plugin = TestSupport.plugin(scaler.url(), TestSupport.CLOCK);
        plugin.initializeGoApplicationAccessor(accessor);
    }

    @AfterEach
    void stop() {
        scaler.close();
    }

    @Test
    void consoleLinesGetGocdsConsolePrefixAndANewlinePerLine() {
        assertEquals("##|09:05:03.042 [go] one\n##|09:05:03.042 [go] two\n", GocdUserNotices.consoleText("one\ntwo", LocalTime.of(9, 5, 3, 42_000_000)));
        assertEquals("##|00:00:00.000 [go] \n", GocdUserNotices.consoleText("", LocalTime.MIDNIGHT));
    }

    @ParameterizedTest
    @ValueSource(strings = {ForwarderPlugin.CREATE_AGENT, ForwarderPlugin.SERVER_PING, ForwarderPlugin.JOB_COMPLETION})
    void appendsEachConsoleLineWithApi20InTheBodyGocdParsesThenReplacesHealthWithApi10(String name) {
        scaler.answer = s -> new TestSupport.Answer(200, "{\"agent_actions\":{\"disable\":[],\"delete\":[]},\"console\":[" + LINE + "],\"health\":" + HEALTH + "}");
        GoPluginApiResponse r = plugin.handle(TestSupport.request(name, "{}"));
        assertEquals(200, r.responseCode());
        assertEquals("{}", r.responseBody(), "GoCD ignores these bodies; the work was for the plugin");

        List<GoApiRequest> console = accessor.callsTo(GocdUserNotices.CONSOLE_LOG_APPEND);
        assertEquals(1, console.size());
        assertEquals("2.0", console.get(0).apiVersion());
        assertEquals("elastic-agent", console.get(0).pluginIdentifier().getExtension());
        JsonObject body = JsonParser.parseString(console.get(0).requestBody()).getAsJsonObject();
        assertEquals(JsonParser.parseString("{\"pipeline_name\":\"app\",\"pipeline_counter\":7,\"stage_name\":\"test\",\"stage_counter\":\"1\",\"job_name\":\"build\","
                + "\"text\":\"##|09:05:03.042 [go] Launched elastic agent ea-7-0a1b2c3d\\n\"}"), body);
        assertTrue(body.get("pipeline_counter").getAsJsonPrimitive().isNumber(), "ConsoleLogAppendRequest2_0 reads an Integer");
        assertTrue(body.get("stage_counter").getAsJsonPrimitive().isString());

        List<GoApiRequest> health = accessor.callsTo(GocdUserNotices.SERVER_HEALTH_ADD_MESSAGES);
        assertEquals(1, health.size());
        assertEquals("1.0", health.get(0).apiVersion());
        assertEquals(JsonParser.parseString(HEALTH), JsonParser.parseString(health.get(0).requestBody()));
        int consoleAt = accessor.apis().indexOf(GocdUserNotices.CONSOLE_LOG_APPEND);
        assertTrue(consoleAt < accessor.apis().indexOf(GocdUserNotices.SERVER_HEALTH_ADD_MESSAGES));
    }

    @Test
    void anEmptyHealthListIsSentToClearTheMessagesAndNoHealthKeyLeavesThemAlone() {
        scaler.answer = s -> new TestSupport.Answer(200, "{\"health\":[]}");
        plugin.handle(TestSupport.request(ForwarderPlugin.CREATE_AGENT, "{}"));
        assertEquals("[]", accessor.callsTo(GocdUserNotices.SERVER_HEALTH_ADD_MESSAGES).get(0).requestBody());
        scaler.answer = s -> new TestSupport.Answer(200, "{}");
        plugin.handle(TestSupport.request(ForwarderPlugin.CREATE_AGENT, "{}"));
        assertEquals(1, accessor.callsTo(GocdUserNotices.SERVER_HEALTH_ADD_MESSAGES).size());
        assertEquals(0, accessor.callsTo(GocdUserNotices.CONSOLE_LOG_APPEND).size());
    }

    @Test
    void healthEntriesAreNormalisedToWhatPluginHealthMessageReads() {
        scaler.answer = s -> new TestSupport.Answer(200, "{\"health\":[{\"type\":\"WARNING\",\"message\":\"a\",\"extra\":1},{\"message\":\"b\"},{\"type\":\"warning\"},7]}");
        plugin.handle(TestSupport.request(ForwarderPlugin.CREATE_AGENT, "{}"));
        assertEquals(JsonParser.parseString("[{\"type\":\"error\",\"message\":\"a\"},{\"type\":\"error\",\"message\":\"b\"}]"),
                JsonParser.parseString(accessor.callsTo(GocdUserNotices.SERVER_HEALTH_ADD_MESSAGES).get(0).requestBody()));
    }

    @ParameterizedTest
    @ValueSource(ints = {500, 404, -1})
    void aFailedAccessorCallNeverChangesTheAnswerAndTheOtherCallsStillHappen(int failure) {
        accessor.failing.put(GocdUserNotices.CONSOLE_LOG_APPEND, failure);
        accessor.failing.put(GocdUserNotices.SERVER_HEALTH_ADD_MESSAGES, failure);
        accessor.listAgentsBody = "[{\"agent_id\":\"ea-7-0a1b2c3d\"}]";
        scaler.answer = s -> new TestSupport.Answer(200, "{\"agent_actions\":{\"disable\":[\"ea-7-0a1b2c3d\"],\"delete\":[\"ea-7-0a1b2c3d\"]},"
                + "\"console\":[" + LINE + "," + LINE + "],\"health\":" + HEALTH + "}");
        for (String name : List.of(ForwarderPlugin.CREATE_AGENT, ForwarderPlugin.JOB_COMPLETION, ForwarderPlugin.SERVER_PING)) {
            accessor.calls.clear();
            GoPluginApiResponse r = plugin.handle(TestSupport.request(name, "{}"));
            assertEquals(200, r.responseCode(), name);
            assertEquals("{}", r.responseBody(), name);
            assertEquals(2, accessor.callsTo(GocdUserNotices.CONSOLE_LOG_APPEND).size(), name + ": the second line is still told");
            assertEquals(1, accessor.callsTo(GocdUserNotices.SERVER_HEALTH_ADD_MESSAGES).size(), name);
        }
    }

    @Test
    void withoutAnAccessorTheAnswerIsTheSame() {
        ForwarderPlugin noAccessor = TestSupport.plugin(scaler.url(), TestSupport.CLOCK);
        scaler.answer = s -> new TestSupport.Answer(200, "{\"console\":[" + LINE + "],\"health\":" + HEALTH + "}");
        GoPluginApiResponse r = noAccessor.handle(TestSupport.request(ForwarderPlugin.CREATE_AGENT, "{}"));
        assertEquals(200, r.responseCode());
        assertEquals("{}", r.responseBody());
    }

    @Test
    void serverPingWithoutAGoodAnswerReplacesHealthWithOneErrorNamingTheService() throws Exception {
        ForwarderPlugin down = TestSupport.plugin("http://127.0.0.1:" + TestSupport.closedPort(), TestSupport.CLOCK);
        down.initializeGoApplicationAccessor(accessor);
        assertEquals(500, down.handle(TestSupport.request(ForwarderPlugin.SERVER_PING, "{}")).responseCode());
        JsonArray sent = JsonParser.parseString(accessor.callsTo(GocdUserNotices.SERVER_HEALTH_ADD_MESSAGES).get(0).requestBody()).getAsJsonArray();
        assertEquals(1, sent.size());
        assertEquals("error", sent.get(0).getAsJsonObject().get("type").getAsString());
        assertTrue(sent.get(0).getAsJsonObject().get("message").getAsString().contains("did not answer"), sent.toString());
        assertTrue(sent.toString().contains("127.0.0.1"), sent.toString());

        scaler.answer = s -> new TestSupport.Answer(401, "{\"message\":\"unauthorized\"}");
        accessor.calls.clear();
        plugin.handle(TestSupport.request(ForwarderPlugin.SERVER_PING, "{}"));
        String message = accessor.callsTo(GocdUserNotices.SERVER_HEALTH_ADD_MESSAGES).get(0).requestBody();
        assertTrue(message.contains("answered 401") && message.contains("GOCD_AGENT_SCALER_TOKEN"), message);
        assertTrue(!message.contains(TestSupport.TOKEN), "never the token itself");

        ForwarderPlugin unconfigured = new ForwarderPlugin(ForwarderSettings.from(Map.of(), new Properties()), Duration.ofSeconds(1), Duration.ofSeconds(1));
        unconfigured.initializeGoApplicationAccessor(accessor);
        accessor.calls.clear();
        unconfigured.handle(TestSupport.request(ForwarderPlugin.SERVER_PING, "{}"));
        message = accessor.callsTo(GocdUserNotices.SERVER_HEALTH_ADD_MESSAGES).get(0).requestBody();
        assertTrue(message.contains("not configured") && message.contains("GOCD_AGENT_SCALER_URL"), message);
    }

    @Test
    void createAgentFailuresLeaveHealthToTheNextServerPing() throws Exception {
        ForwarderPlugin down = TestSupport.plugin("http://127.0.0.1:" + TestSupport.closedPort(), TestSupport.CLOCK);
        down.initializeGoApplicationAccessor(accessor);
        assertEquals(500, down.handle(TestSupport.request(ForwarderPlugin.CREATE_AGENT, "{}")).responseCode());
        assertEquals(List.of(), accessor.apis());
    }
}
