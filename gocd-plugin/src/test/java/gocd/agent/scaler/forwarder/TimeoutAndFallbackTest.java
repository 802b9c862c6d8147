package gocd.agent.scaler.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.thoughtworks.go.plugin.api.response.GoPluginApiResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class TimeoutAndFallbackTest {
    static final String MIGRATE = "{\"cluster_profiles\":[{\"id\":\"ecs\",\"plugin_id\":\"gocd-agent-scaler\",\"properties\":{\"go_server_url\":\"https://gocd/go\"}}],"
            + "\"elastic_agent_profiles\":[{\"id\":\"small\",\"plugin_id\":\"gocd-agent-scaler\",\"cluster_profile_id\":\"ecs\",\"properties\":{\"image\":\"gocd/agent\"}}]}";

    private static long millisSince(long started) {
        return (System.nanoTime() - started) / 1_000_000;
    }

    @Test
    void theDefaultsAreAFiveSecondConnectTimeoutAndAThirtySecondDeadline() throws IOException {
        assertEquals(Duration.ofSeconds(5), ScalerClient.CONNECT_TIMEOUT);
        assertEquals(Duration.ofSeconds(30), ScalerClient.REQUEST_DEADLINE);
        ForwarderPlugin p = TestSupport.plugin("http://127.0.0.1:" + TestSupport.closedPort(), ScalerClient.CONNECT_TIMEOUT, ScalerClient.REQUEST_DEADLINE);
        assertEquals(Duration.ofSeconds(5), p.client().http().connectTimeout().orElseThrow());
    }

    @Test
    void systemPropertiesOverrideBothTimeoutsAndBadValuesKeepTheDefaults() {
        java.util.Properties p = new java.util.Properties();
        assertEquals(Duration.ofSeconds(30), ForwarderSettings.timeout(p, ForwarderSettings.REQUEST_TIMEOUT_PROPERTY, ScalerClient.REQUEST_DEADLINE));
        for (String bad : new String[] {"", " ", "0", "-5", "1.5", "30s", "99999999999999999999"}) {
            p.setProperty(ForwarderSettings.REQUEST_TIMEOUT_PROPERTY, bad);
            assertEquals(Duration.ofSeconds(30), ForwarderSettings.timeout(p, ForwarderSettings.REQUEST_TIMEOUT_PROPERTY, ScalerClient.REQUEST_DEADLINE), "'" + bad + "'");
        }
        p.setProperty(ForwarderSettings.REQUEST_TIMEOUT_PROPERTY, " 750 ");
        assertEquals(Duration.ofMillis(750), ForwarderSettings.timeout(p, ForwarderSettings.REQUEST_TIMEOUT_PROPERTY, ScalerClient.REQUEST_DEADLINE));

        String[] keys = {ForwarderSettings.URL_PROPERTY, ForwarderSettings.TOKEN_PROPERTY, ForwarderSettings.CONNECT_TIMEOUT_PROPERTY, ForwarderSettings.REQUEST_TIMEOUT_PROPERTY};
        String[] values = {"http://127.0.0.1:1", TestSupport.TOKEN, "1200", "3400"};
        try {
            for (int i = 0; i < keys.length; i++) System.setProperty(keys[i], values[i]);
            ForwarderPlugin plugin = new ForwarderPlugin();
            assertEquals(Duration.ofMillis(1200), plugin.client().http().connectTimeout().orElseThrow());
            assertEquals(Duration.ofMillis(3400), plugin.client().deadline());
        } finally {
            for (String k : keys) System.clearProperty(k);
        }
    }

    @Test
    void aBodyThatStallsAfterTheHeadersIsCutOffAtTheDeadline() throws Exception {
        try (TestSupport.FakeScaler scaler = new TestSupport.FakeScaler()) {
            // Headers and 10 of 1000 promised bytes, then silence: HttpRequest.timeout alone would wait forever.
            scaler.server().removeContext("/");
            scaler.server().createContext("/", x -> {
                x.getRequestBody().readAllBytes();
                x.sendResponseHeaders(200, 1000);
                OutputStream out = x.getResponseBody();
                out.write("{\"view\":\"".getBytes());
                out.flush();
                try {
                    Thread.sleep(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                x.close();
            });
            ForwarderPlugin plugin = TestSupport.plugin(scaler.url(), Duration.ofSeconds(2), Duration.ofMillis(700));

            long started = System.nanoTime();
            GoPluginApiResponse create = plugin.handle(TestSupport.request("cd.go.elastic-agent.create-agent", "{}"));
            long ms = millisSince(started);
            assertEquals(500, create.responseCode());
            assertTrue(ms >= 600 && ms < 3_000, "cut off after " + ms + " ms");
        }
    }

    @Test
    void aServiceThatAcceptsButNeverAnswersIsCutOffAtTheDeadline() throws Exception {
        List<Socket> held = new ArrayList<>();
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (!silent.isClosed()) held.add(silent.accept());
                } catch (IOException closed) {
                    // the test is over
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            ForwarderPlugin plugin = TestSupport.plugin("http://127.0.0.1:" + silent.getLocalPort(), Duration.ofSeconds(2), Duration.ofMillis(500));
            long started = System.nanoTime();
            GoPluginApiResponse r = plugin.handle(TestSupport.request("cd.go.elastic-agent.server-ping", "{}"));
            long ms = millisSince(started);
            assertEquals(500, r.responseCode());
            assertTrue(ms >= 400 && ms < 3_000, "cut off after " + ms + " ms");
        } finally {
            for (Socket s : held) s.close();
        }
    }

    @Test
    void aConnectThatHangsIsCutOffAtTheConnectTimeout() throws Exception {
        // A listener that never accepts, with its accept queue filled: Linux drops further SYNs, so connects hang.
        List<Socket> fillers = new ArrayList<>();
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            boolean hanging = false;
            for (int i = 0; i < 16 && !hanging; i++) {
                Socket s = new Socket();
                fillers.add(s);
                try {
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), full.getLocalPort()), 200);
                } catch (SocketTimeoutException e) {
                    hanging = true;
                }
            }
            assertTrue(hanging, "could not make a connect hang on loopback (accept queue never filled)");
            ForwarderPlugin plugin = TestSupport.plugin("http://127.0.0.1:" + full.getLocalPort(), Duration.ofMillis(400), Duration.ofSeconds(20));
            TestSupport.LogCapture logs = TestSupport.LogCapture.install();
            long started = System.nanoTime();
            GoPluginApiResponse r = plugin.handle(TestSupport.request("cd.go.elastic-agent.create-agent", "{}"));
            long ms = millisSince(started);
            assertEquals(500, r.responseCode());
            assertTrue(ms >= 300 && ms < 5_000, "connect gave up after " + ms + " ms, before the 20 s deadline");
            assertTrue(logs.all().contains("HttpConnectTimeoutException"), logs.all());
        } finally {
            for (Socket s : fillers) s.close();
        }
    }

    /** What the service answers for MIGRATE (plugin settings dropped, profiles unchanged). */
    static final String MIGRATED = "{\"plugin_settings\":{}," + MIGRATE.substring(1);

    @Test
    void whenTheServiceIsDownTheLoaderRequestsStill200AndEverythingElseGetsAnErrorStatus() throws IOException {
        ForwarderPlugin plugin = TestSupport.plugin("http://127.0.0.1:" + TestSupport.closedPort());
        GoPluginApiResponse migrate = plugin.handle(TestSupport.request(ForwarderPlugin.MIGRATE_CONFIG, MIGRATE));
        assertEquals(200, migrate.responseCode());
        assertEquals(MIGRATED, migrate.responseBody());
        assertEquals(200, plugin.handle(TestSupport.request("cd.go.elastic-agent.get-icon", null)).responseCode());
        for (String name : List.of("cd.go.elastic-agent.create-agent", "cd.go.elastic-agent.server-ping", "cd.go.elastic-agent.job-completion",
                "cd.go.elastic-agent.validate-cluster-profile", "cd.go.elastic-agent.plugin-status-report")) {
            GoPluginApiResponse r = plugin.handle(TestSupport.request(name, "{}"));
            assertEquals(500, r.responseCode(), name);
            assertTrue(r.responseBody().contains("could not be reached"), name);
        }
    }

    @Test
    void whenTheServiceFailsCreateAgentGetsItsStatusAndMigrateConfigIsUnaffected() throws Exception {
        try (TestSupport.FakeScaler scaler = new TestSupport.FakeScaler()) {
            scaler.answer = s -> new TestSupport.Answer(503, "{\"message\":\"closing\"}");
            ForwarderPlugin plugin = TestSupport.plugin(scaler.url());
            GoPluginApiResponse migrate = plugin.handle(TestSupport.request(ForwarderPlugin.MIGRATE_CONFIG, MIGRATE));
            assertEquals(200, migrate.responseCode());
            assertEquals(MIGRATED, migrate.responseBody());
            GoPluginApiResponse create = plugin.handle(TestSupport.request("cd.go.elastic-agent.create-agent", "{}"));
            assertEquals(503, create.responseCode());
        }
    }

    @Test
    void migrateConfigNeverReachesTheServiceEvenWhileItIsUp() throws Exception {
        try (TestSupport.FakeScaler scaler = new TestSupport.FakeScaler()) {
            scaler.answer = s -> new TestSupport.Answer(200, "{\"cluster_profiles\":[],\"elastic_agent_profiles\":[],\"from\":\"service\"}");
            GoPluginApiResponse r = TestSupport.plugin(scaler.url()).handle(TestSupport.request(ForwarderPlugin.MIGRATE_CONFIG, MIGRATE));
            assertEquals(MIGRATED, r.responseBody());
            assertTrue(scaler.seen.isEmpty(), "GoCD sends migrate-config while loading the plugin: no network then");
        }
    }

    @Test
    void theMigrateConfigAnswerIsNeverWithoutItsProfileLists() {
        String empty = "{\"plugin_settings\":{},\"cluster_profiles\":[],\"elastic_agent_profiles\":[]}";
        assertEquals(empty, MigrateConfigRule.answer(null));
        assertEquals(empty, MigrateConfigRule.answer(""));
        assertEquals(empty, MigrateConfigRule.answer("not json"));
        assertEquals(empty, MigrateConfigRule.answer("[1]"));
        assertEquals(MIGRATED, MigrateConfigRule.answer(MIGRATE));
    }

    @Test
    void anUnconfiguredPluginLoadsMakesNoCallAndAnswersSafely() {
        TestSupport.LogCapture logs = TestSupport.LogCapture.install();
        ForwarderPlugin plugin = new ForwarderPlugin(ForwarderSettings.from(Map.of(), new Properties()), Duration.ofSeconds(1), Duration.ofSeconds(1));
        assertEquals(200, plugin.handle(TestSupport.request(ForwarderPlugin.MIGRATE_CONFIG, MIGRATE)).responseCode());
        assertEquals(MIGRATED, plugin.handle(TestSupport.request(ForwarderPlugin.MIGRATE_CONFIG, MIGRATE)).responseBody());
        assertNotEquals(200, plugin.handle(TestSupport.request("cd.go.elastic-agent.create-agent", "{}")).responseCode());
        assertEquals("false", plugin.handle(TestSupport.request(ForwarderPlugin.SHOULD_ASSIGN_WORK, "{}")).responseBody());
        assertTrue(logs.all().contains("GOCD_AGENT_SCALER_URL"), logs.all());
        assertTrue(logs.all().contains("GOCD_AGENT_SCALER_TOKEN"), logs.all());
    }

    @Test
    void neitherTheTokenNorRequestBodiesReachTheLog() throws Exception {
        TestSupport.LogCapture logs = TestSupport.LogCapture.install();
        String marker = "body-marker-5d1e";
        try (TestSupport.FakeScaler scaler = new TestSupport.FakeScaler()) {
            scaler.answer = s -> new TestSupport.Answer(500, "{\"message\":\"boom\"}");
            ForwarderPlugin plugin = TestSupport.plugin(scaler.url());
            plugin.handle(TestSupport.request("cd.go.elastic-agent.create-agent", "{\"auto_register_key\":\"" + marker + "\"}"));
            plugin.handle(TestSupport.request(ForwarderPlugin.MIGRATE_CONFIG, "{\"plugin_settings\":{\"password\":\"" + marker + "\"}}"));
        }
        ForwarderPlugin down = TestSupport.plugin("http://127.0.0.1:" + TestSupport.closedPort());
        down.handle(TestSupport.request("cd.go.elastic-agent.server-ping", "{\"x\":\"" + marker + "\"}"));
        assertFalse(logs.lines.isEmpty(), "failures are logged");
        assertFalse(logs.all().contains(TestSupport.TOKEN), logs.all());
        assertFalse(logs.all().contains(marker), logs.all());
    }
}
