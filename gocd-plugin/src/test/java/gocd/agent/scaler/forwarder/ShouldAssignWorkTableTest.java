package gocd.agent.scaler.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.thoughtworks.go.plugin.api.response.GoPluginApiResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The table shared with the service's TypeScript rule (test/fixtures/should-assign-work-cases.json), run through handle. */
class ShouldAssignWorkTableTest {
    private static TestSupport.FakeScaler scaler;
    private static TestSupport.RecordingAccessor accessor;
    private static ForwarderPlugin plugin;

    @BeforeAll
    static void start() throws IOException {
        scaler = new TestSupport.FakeScaler();
        scaler.answer = s -> new TestSupport.Answer(200, "false");
        accessor = new TestSupport.RecordingAccessor();
        plugin = TestSupport.plugin(scaler.url());
        plugin.initializeGoApplicationAccessor(accessor);
    }

    @AfterAll
    static void stop() {
        // The whole table was answered in the plugin: nothing reached the service or GoCD's accessor.
        assertEquals(0, scaler.seen.size(), "should-assign-work must never reach the service");
        assertEquals(0, accessor.calls.size(), "should-assign-work must never call GoCD back");
        scaler.close();
    }

    static Path tablePath() {
        return Path.of(System.getProperty("shared.table", "../test/fixtures/should-assign-work-cases.json"));
    }

    @TestFactory
    List<DynamicTest> everyCaseOfTheSharedTable() throws IOException {
        JsonElement table = JsonParser.parseString(Files.readString(tablePath(), StandardCharsets.UTF_8));
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonElement e : table.getAsJsonArray()) {
            JsonObject c = e.getAsJsonObject();
            String name = c.get("name").getAsString();
            boolean expected = c.get("expected").getAsBoolean();
            // raw: the request text verbatim; body: the JSON value, written as GoCD's Gson would.
            String text = c.has("raw") ? c.get("raw").getAsString() : Json.write(c.get("body"));
            // forwarder: a plugin of that instance whose pool agents already took these jobs (the pool cases).
            ForwarderPlugin asked = c.has("forwarder") ? pluginWith(c.getAsJsonObject("forwarder")) : plugin;
            tests.add(DynamicTest.dynamicTest(name, () -> {
                GoPluginApiResponse r = asked.handle(TestSupport.request(ForwarderPlugin.SHOULD_ASSIGN_WORK, text));
                assertEquals(200, r.responseCode());
                assertEquals(Boolean.toString(expected), r.responseBody());
            }));
        }
        assertTrue(tests.size() >= 15, "the shared table has at least 15 cases");
        return tests;
    }

    /** A forwarder of the case's instance that already gave each claimed pool agent its job. */
    private static ForwarderPlugin pluginWith(JsonObject forwarder) {
        PoolClaims claims = new PoolClaims(forwarder.get("instance").getAsString());
        for (var e : forwarder.getAsJsonObject("claims").entrySet()) {
            assertTrue(claims.claim(e.getKey(), e.getValue().getAsLong()));
        }
        ForwarderPlugin p = new ForwarderPlugin(ForwarderSettings.of(scaler.url(), TestSupport.TOKEN), Duration.ofSeconds(2),
                Duration.ofSeconds(5), LoaderAnswers.builtIn(), TestSupport.CLOCK, claims);
        p.initializeGoApplicationAccessor(accessor);
        return p;
    }

    @Test
    void aNullRequestBodyAnswersFalse() {
        GoPluginApiResponse r = plugin.handle(TestSupport.request(ForwarderPlugin.SHOULD_ASSIGN_WORK, null));
        assertEquals(200, r.responseCode());
        assertEquals("false", r.responseBody());
    }

    @Test
    void deeplyNestedJunkAnswersFalseInsteadOfThrowing() {
        String deep = "[".repeat(200_000);
        GoPluginApiResponse r = plugin.handle(TestSupport.request(ForwarderPlugin.SHOULD_ASSIGN_WORK, deep));
        assertEquals("false", r.responseBody());
    }

    @Test
    void isAnsweredLocallyEvenWhenTheServiceIsUnreachable() throws IOException {
        ForwarderPlugin offline = TestSupport.plugin("http://127.0.0.1:" + TestSupport.closedPort(), Duration.ofSeconds(5), Duration.ofSeconds(30));
        // The table's first case: the agent made for its job, in a full GoCD body.
        JsonElement table = JsonParser.parseString(Files.readString(tablePath(), StandardCharsets.UTF_8));
        JsonObject first = table.getAsJsonArray().get(0).getAsJsonObject();
        assertTrue(first.get("expected").getAsBoolean(), "the table's first case is a match");
        String body = Json.write(first.get("body"));
        long started = System.nanoTime();
        for (int i = 0; i < 1000; i++) {
            assertEquals("true", offline.handle(TestSupport.request(ForwarderPlugin.SHOULD_ASSIGN_WORK, body)).responseBody());
        }
        long ms = (System.nanoTime() - started) / 1_000_000;
        assertTrue(ms < 2_000, "1000 answers took " + ms + " ms");
    }
}
