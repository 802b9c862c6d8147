package gocd.agent.scaler.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.thoughtworks.go.plugin.api.response.GoPluginApiResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ForwardingTest {
    private TestSupport.FakeScaler scaler;

    @BeforeEach
    void start() throws Exception {
        scaler = new TestSupport.FakeScaler();
    }

    @AfterEach
    void stop() {
        scaler.close();
    }

    @Test
    void postsTheBodyVerbatimWithTheBearerTokenAndReturnsTheServicesAnswer() {
        String body = "{ \"job_identifier\" : {\"job_id\": 100.0},\n \"name\": \"caf\u00e9 <&> \\u00e9\", \"x\": null }";
        scaler.answer = s -> new TestSupport.Answer(200, "{\"answer\":\"\u00e9\"}");
        GoPluginApiResponse r = TestSupport.plugin(scaler.url()).handle(TestSupport.request("cd.go.elastic-agent.validate-elastic-agent-profile", body));
        assertEquals(200, r.responseCode());
        assertEquals("{\"answer\":\"\u00e9\"}", r.responseBody());
        assertEquals(1, scaler.seen.size());
        TestSupport.Seen s = scaler.seen.get(0);
        assertEquals("POST", s.method);
        assertEquals("/gocd/requests/cd.go.elastic-agent.validate-elastic-agent-profile", s.path);
        assertEquals("Bearer " + TestSupport.TOKEN, s.authorization);
        assertEquals("application/json", s.contentType);
        assertEquals(body, s.body);
    }

    @Test
    void speaksHttp11WithoutAnH2cUpgrade() {
        TestSupport.plugin(scaler.url()).handle(TestSupport.request("cd.go.elastic-agent.validate-cluster-profile", "{}"));
        assertEquals("HTTP/1.1", scaler.seen.get(0).protocol);
        assertNull(scaler.seen.get(0).upgrade);
    }

    @Test
    void forwardsBodylessRequestsWithAnEmptyBody() {
        scaler.answer = s -> new TestSupport.Answer(200, "{\"view\":\"<p>ok</p>\"}");
        GoPluginApiResponse r = TestSupport.plugin(scaler.url()).handle(TestSupport.request("cd.go.elastic-agent.plugin-status-report", null));
        assertEquals(200, r.responseCode());
        assertEquals("{\"view\":\"<p>ok</p>\"}", r.responseBody());
        assertEquals("", scaler.seen.get(0).body);
        assertEquals("application/json", scaler.seen.get(0).contentType);
    }

    @Test
    void keepsAPathPrefixAndDropsTrailingSlashesOfTheUrl() {
        TestSupport.plugin(scaler.url() + "/scaler//").handle(TestSupport.request("cd.go.elastic-agent.plugin-status-report", null));
        assertEquals("/scaler/gocd/requests/cd.go.elastic-agent.plugin-status-report", scaler.seen.get(0).path);
    }

    @Test
    void percentEncodesAnythingUnusualInTheRequestName() {
        TestSupport.plugin(scaler.url()).handle(TestSupport.request("a/b c?d", "{}"));
        assertEquals("/gocd/requests/a%2Fb%20c%3Fd", scaler.seen.get(0).path);
    }

    @Test
    void answersGocd200ForAny2xxOfTheService() {
        scaler.answer = s -> new TestSupport.Answer(204, "");
        GoPluginApiResponse r = TestSupport.plugin(scaler.url()).handle(TestSupport.request("cd.go.elastic-agent.cluster-profile-changed", "{}"));
        assertEquals(200, r.responseCode());
        assertEquals("", r.responseBody());
    }

    @Test
    void passesAServiceErrorStatusAndBodyThrough() {
        scaler.answer = s -> new TestSupport.Answer(404, "{\"code\":\"UNKNOWN_REQUEST_NAME\"}");
        GoPluginApiResponse r = TestSupport.plugin(scaler.url()).handle(TestSupport.request("go.plugin-settings.validate-configuration", null));
        assertEquals(404, r.responseCode());
        assertEquals("{\"code\":\"UNKNOWN_REQUEST_NAME\"}", r.responseBody());
    }

    @Test
    void servesConcurrentGocdThreadsInParallelThroughOneClient() throws Exception {
        scaler.answer = s -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new TestSupport.Answer(200, s.body);
        };
        ForwarderPlugin plugin = TestSupport.plugin(scaler.url());
        int n = 24;
        ExecutorService gocdThreads = Executors.newFixedThreadPool(n);
        try {
            List<Callable<GoPluginApiResponse>> calls = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String body = "{\"job_identifier\":{\"job_id\":" + i + "}}";
                calls.add(() -> plugin.handle(TestSupport.request("cd.go.elastic-agent.validate-elastic-agent-profile", body)));
            }
            long started = System.nanoTime();
            List<Future<GoPluginApiResponse>> results = gocdThreads.invokeAll(calls, 20, TimeUnit.SECONDS);
            long ms = (System.nanoTime() - started) / 1_000_000;
            for (int i = 0; i < n; i++) {
                GoPluginApiResponse r = results.get(i).get();
                assertEquals(200, r.responseCode());
                assertEquals("{\"job_identifier\":{\"job_id\":" + i + "}}", r.responseBody(), "each thread gets its own answer");
            }
            assertTrue(scaler.maxInFlight.get() > 1, "requests overlapped at the service");
            assertTrue(ms < n * 100, "24 requests of 100 ms each took " + ms + " ms: not serialized");
        } finally {
            gocdThreads.shutdownNow();
        }
    }

    @Test
    void identifiesAsAnElasticAgentV5Plugin() {
        ForwarderPlugin plugin = TestSupport.plugin(scaler.url());
        assertEquals("elastic-agent", plugin.pluginIdentifier().getExtension());
        assertEquals(List.of("5.0"), plugin.pluginIdentifier().getSupportedExtensionVersions());
    }
}
