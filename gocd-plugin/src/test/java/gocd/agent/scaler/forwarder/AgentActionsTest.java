package gocd.agent.scaler.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.thoughtworks.go.plugin.api.request.GoApiRequest;
import com.thoughtworks.go.plugin.api.response.GoPluginApiResponse;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** server-ping and job-completion: GoCD's agent list goes to the service; its agent_actions come back to GoCD. */
class AgentActionsTest {
    static final String AGENT_A = "{\"agent_id\":\"ea-7-0a1b2c3d\",\"agent_state\":\"Idle\",\"build_state\":\"Idle\",\"config_state\":\"Enabled\"}";
    static final String PING = "{\"all_cluster_profile_properties\":[{\"go_server_url\":\"https://gocd/go\",\"region\":null}]}";

    private TestSupport.FakeScaler scaler;
    private TestSupport.RecordingAccessor accessor;
    private ForwarderPlugin plugin;

    @BeforeEach
    void start() throws Exception {
        scaler = new TestSupport.FakeScaler();
        accessor = new TestSupport.RecordingAccessor();
        plugin = TestSupport.plugin(scaler.url());
        plugin.initializeGoApplicationAccessor(accessor);
    }

    @AfterEach
    void stop() {
        scaler.close();
    }

    private static JsonElement json(String text) {
        return JsonParser.parseString(text);
    }

    /** A forwarded server-ping without the forwarder's instance id (which every server-ping carries). */
    private static JsonObject withoutInstance(String body) {
        JsonObject o = json(body).getAsJsonObject();
        assertTrue(o.get("forwarder_instance").getAsString().matches("[0-9a-f]{8}"), "server-ping carries the forwarder instance");
        o.remove("forwarder_instance");
        return o;
    }

    @Test
    void everyServerPingCarriesThisForwardersInstanceIdAndAnotherForwarderHasAnother() throws Exception {
        plugin.handle(TestSupport.request(ForwarderPlugin.SERVER_PING, PING));
        plugin.handle(TestSupport.request(ForwarderPlugin.SERVER_PING, PING));
        ForwarderPlugin restarted = TestSupport.plugin(scaler.url());
        restarted.initializeGoApplicationAccessor(accessor);
        restarted.handle(TestSupport.request(ForwarderPlugin.SERVER_PING, PING));
        String first = json(scaler.seen.get(0).body).getAsJsonObject().get("forwarder_instance").getAsString();
        String second = json(scaler.seen.get(1).body).getAsJsonObject().get("forwarder_instance").getAsString();
        String third = json(scaler.seen.get(2).body).getAsJsonObject().get("forwarder_instance").getAsString();
        assertTrue(first.matches("[0-9a-f]{8}"), first);
        assertEquals(first, second, "one instance id for the forwarder's lifetime");
        assertFalse(first.equals(third), "a restarted forwarder draws a new one");
    }

    @ParameterizedTest
    @ValueSource(strings = {ForwarderPlugin.SERVER_PING, ForwarderPlugin.JOB_COMPLETION})
    void addsGocdsAgentListToTheForwardedBodyKeepingEverythingElse(String name) {
        accessor.listAgentsBody = "[" + AGENT_A + "]";
        plugin.handle(TestSupport.request(name, PING));
        JsonObject sent = json(scaler.seen.get(0).body).getAsJsonObject();
        assertEquals(json("[" + AGENT_A + "]"), sent.get("agents"));
        sent.remove("agents");
        if (name.equals(ForwarderPlugin.SERVER_PING)) sent.remove("forwarder_instance");
        assertEquals(json(PING), sent, "GoCD's own fields, nulls included, are forwarded unchanged");
        assertTrue(scaler.seen.get(0).body.contains("\"region\":null"));
        GoApiRequest list = accessor.calls.get(0);
        assertEquals(GocdAccessorCalls.LIST_AGENTS, list.api());
        assertEquals("1.0", list.apiVersion());
        assertEquals("elastic-agent", list.pluginIdentifier().getExtension());
    }

    @Test
    void leavesAgentsOutWhenListAgentsFailsSoTheServiceTreatsTheListAsUnknown() {
        accessor.listAgentsStatus = 500;
        plugin.handle(TestSupport.request(ForwarderPlugin.SERVER_PING, PING));
        accessor.listAgentsStatus = 200;
        accessor.throwOnList = true;
        plugin.handle(TestSupport.request(ForwarderPlugin.SERVER_PING, PING));
        accessor.throwOnList = false;
        accessor.listAgentsBody = "{\"not\":\"a list\"}";
        plugin.handle(TestSupport.request(ForwarderPlugin.SERVER_PING, PING));
        assertEquals(3, scaler.seen.size());
        for (TestSupport.Seen s : scaler.seen) assertEquals(json(PING), withoutInstance(s.body), "GoCD's body, without agents");
    }

    @Test
    void leavesAgentsOutBeforeGocdHandedOverAnAccessor() throws Exception {
        ForwarderPlugin fresh = TestSupport.plugin(scaler.url());
        GoPluginApiResponse r = fresh.handle(TestSupport.request(ForwarderPlugin.SERVER_PING, PING));
        assertEquals(200, r.responseCode());
        assertEquals(json(PING), withoutInstance(scaler.seen.get(0).body));
    }

    @ParameterizedTest
    @ValueSource(strings = {ForwarderPlugin.SERVER_PING, ForwarderPlugin.JOB_COMPLETION})
    void disablesThenDeletesTheAgentsTheServiceNamesAndAnswersGocd200(String name) {
        accessor.listAgentsBody = "[" + AGENT_A + "]";
        scaler.answer = s -> new TestSupport.Answer(200, "{\"agent_actions\":{\"disable\":[\"ea-7-0a1b2c3d\",\"ea-9-ffffffff\"],\"delete\":[\"ea-7-0a1b2c3d\"]}}");
        GoPluginApiResponse r = plugin.handle(TestSupport.request(name, PING));
        assertEquals(200, r.responseCode());
        assertEquals("{}", r.responseBody(), "an empty JSON object, not the agent actions meant for the plugin");
        assertEquals(List.of(GocdAccessorCalls.LIST_AGENTS, GocdAccessorCalls.DISABLE_AGENTS, GocdAccessorCalls.DELETE_AGENTS), accessor.apis());
        GoApiRequest disable = accessor.calls.get(1);
        assertEquals("1.0", disable.apiVersion());
        assertEquals(json("[" + AGENT_A + ",{\"agent_id\":\"ea-9-ffffffff\"}]"), json(disable.requestBody()),
                "GoCD's own agent object when listed, else a bare agent_id");
        assertEquals(json("[" + AGENT_A + "]"), json(accessor.calls.get(2).requestBody()));
    }

    @Test
    void makesNoAgentCallForEmptyActionsOrAnAnswerWithoutThem() {
        scaler.answer = s -> new TestSupport.Answer(200, "{\"agent_actions\":{\"disable\":[],\"delete\":[]}}");
        assertEquals(200, plugin.handle(TestSupport.request(ForwarderPlugin.SERVER_PING, PING)).responseCode());
        scaler.answer = s -> new TestSupport.Answer(200, "{}");
        assertEquals(200, plugin.handle(TestSupport.request(ForwarderPlugin.JOB_COMPLETION, "{}")).responseCode());
        scaler.answer = s -> new TestSupport.Answer(200, "{\"agent_actions\":{\"disable\":[42,null,\"\"],\"delete\":\"ea-1\"}}");
        assertEquals(200, plugin.handle(TestSupport.request(ForwarderPlugin.JOB_COMPLETION, "{}")).responseCode());
        assertEquals(List.of(GocdAccessorCalls.LIST_AGENTS, GocdAccessorCalls.LIST_AGENTS, GocdAccessorCalls.LIST_AGENTS), accessor.apis());
    }

    @Test
    void stillDeletesWhenDisablingFailed() {
        accessor.actionStatus = 500;
        scaler.answer = s -> new TestSupport.Answer(200, "{\"agent_actions\":{\"disable\":[\"ea-7-0a1b2c3d\"],\"delete\":[\"ea-7-0a1b2c3d\"]}}");
        GoPluginApiResponse r = plugin.handle(TestSupport.request(ForwarderPlugin.JOB_COMPLETION, "{}"));
        assertEquals(200, r.responseCode());
        assertEquals(List.of(GocdAccessorCalls.LIST_AGENTS, GocdAccessorCalls.DISABLE_AGENTS, GocdAccessorCalls.DELETE_AGENTS), accessor.apis());
    }

    @Test
    void touchesNoAgentWhenTheServiceFailed() {
        scaler.answer = s -> new TestSupport.Answer(500, "{\"agent_actions\":{\"disable\":[\"ea-7-0a1b2c3d\"],\"delete\":[\"ea-7-0a1b2c3d\"]}}");
        GoPluginApiResponse r = plugin.handle(TestSupport.request(ForwarderPlugin.SERVER_PING, PING));
        assertEquals(500, r.responseCode());
        // No agent action; only the plugin's own server-health message that server-ping got no good answer.
        assertEquals(List.of(GocdAccessorCalls.LIST_AGENTS, GocdUserNotices.SERVER_HEALTH_ADD_MESSAGES), accessor.apis());
        assertFalse(accessor.apis().contains(GocdAccessorCalls.DELETE_AGENTS));
    }
}
