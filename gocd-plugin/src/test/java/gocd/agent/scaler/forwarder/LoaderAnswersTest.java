package gocd.agent.scaler.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The requests GoCD sends while loading the plugin never depend on the service. */
class LoaderAnswersTest {
    static final List<String> ELASTIC_LOADER_REQUESTS = List.of(
            "cd.go.elastic-agent.get-elastic-agent-profile-metadata", "cd.go.elastic-agent.get-elastic-agent-profile-view",
            "cd.go.elastic-agent.get-cluster-profile-metadata", "cd.go.elastic-agent.get-cluster-profile-view",
            "cd.go.elastic-agent.get-icon", "cd.go.elastic-agent.get-capabilities");

    @Test
    void theJarCarriesAnAnswerForEveryLoaderRequestAnd200ForEachElasticOne() {
        LoaderAnswers answers = LoaderAnswers.builtIn();
        List<String> names = new ArrayList<>();
        answers.names().forEach(names::add);
        assertEquals(ELASTIC_LOADER_REQUESTS, names.subList(0, 6), "in GoCD's order");
        assertEquals(List.of("go.plugin-settings.get-configuration", "go.plugin-settings.get-view"), names.subList(6, 8));
        for (String name : ELASTIC_LOADER_REQUESTS) {
            GoPluginApiResponse r = answers.answer(name);
            assertEquals(200, r.responseCode(), name);
            assertTrue(r.responseBody().length() > 2, name);
        }
        assertNull(answers.answer("cd.go.elastic-agent.create-agent"));
        assertNull(answers.answer(null));
        assertTrue(answers.service().startsWith("gocd-agent-scaler "), answers.service());
    }

    @Test
    void pluginSettingsAreDeclinedWithANon200GocdLogsAsSafeToIgnore() {
        for (String name : List.of("go.plugin-settings.get-configuration", "go.plugin-settings.get-view")) {
            GoPluginApiResponse r = LoaderAnswers.builtIn().answer(name);
            assertEquals(404, r.responseCode(), name);
            assertTrue(r.responseBody().contains("no plugin settings"), r.responseBody());
        }
    }

    @Test
    void loaderRequestsAreAnsweredWithoutTheServiceWhetherItIsUpDownOrUnconfigured() throws Exception {
        try (TestSupport.FakeScaler scaler = new TestSupport.FakeScaler()) {
            scaler.answer = s -> new TestSupport.Answer(500, "{\"message\":\"must not be asked\"}");
            List<ForwarderPlugin> plugins = List.of(
                    TestSupport.plugin(scaler.url()),
                    TestSupport.plugin("http://127.0.0.1:" + TestSupport.closedPort()),
                    new ForwarderPlugin(ForwarderSettings.from(Map.of(), new Properties()), Duration.ofSeconds(1), Duration.ofSeconds(1)));
            for (ForwarderPlugin plugin : plugins) {
                for (String name : ELASTIC_LOADER_REQUESTS) {
                    GoPluginApiResponse r = plugin.handle(TestSupport.request(name, null));
                    assertEquals(200, r.responseCode(), name);
                    assertEquals(LoaderAnswers.builtIn().answer(name).responseBody(), r.responseBody(), name);
                }
            }
            assertEquals(0, scaler.seen.size(), "no loader-time request reached the service");
        }
    }

    @Test
    void eachAnswerIsAFreshResponseSoOneCallerCannotChangeTheNext() {
        LoaderAnswers answers = LoaderAnswers.builtIn();
        GoPluginApiResponse first = answers.answer("cd.go.elastic-agent.get-icon");
        ((com.thoughtworks.go.plugin.api.response.DefaultGoPluginApiResponse) first).setResponseBody("changed");
        assertTrue(answers.answer("cd.go.elastic-agent.get-icon").responseBody().contains("image/svg+xml"));
    }

    @Test
    void aMalformedOrEmptyCopyIsRefusedAtLoadNotOnFirstUse() {
        assertThrows(RuntimeException.class, () -> LoaderAnswers.parse("{\"answers\":{}}"));
        assertThrows(RuntimeException.class, () -> LoaderAnswers.parse("{}"));
        assertNotNull(LoaderAnswers.parse("{\"answers\":{\"x\":{\"status\":200,\"body\":\"{}\"}}}").answer("x"));
    }

    static Path migrateTable() {
        return Path.of(System.getProperty("migrate.table", "../test/fixtures/migrate-config-cases.json"));
    }

    @TestFactory
    List<DynamicTest> migrateConfigAnswersEveryCaseOfTheSharedTableAsTheServiceDoes() throws IOException {
        JsonObject table = JsonParser.parseString(Files.readString(migrateTable(), StandardCharsets.UTF_8)).getAsJsonObject();
        ForwarderPlugin plugin = TestSupport.plugin("http://127.0.0.1:" + TestSupport.closedPort());
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonElement e : table.getAsJsonArray("cases")) {
            JsonObject c = e.getAsJsonObject();
            String body = c.get("request").isJsonNull() ? null : Json.write(c.get("request"));
            tests.add(DynamicTest.dynamicTest(c.get("name").getAsString(), () -> {
                GoPluginApiResponse r = plugin.handle(TestSupport.request(ForwarderPlugin.MIGRATE_CONFIG, body));
                assertEquals(200, r.responseCode());
                assertEquals(c.get("reply"), JsonParser.parseString(r.responseBody()));
            }));
        }
        assertTrue(tests.size() >= 5, "the table has its cases");
        return tests;
    }
}
