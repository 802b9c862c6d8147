package gocd.agent.scaler.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** The canonical profile hash against the table shared with src/agents/warm-pool-id.ts (test/fixtures/profile-hash-cases.json). */
class ProfileHashTableTest {
    @TestFactory
    List<DynamicTest> everyRowOfTheSharedTable() throws IOException {
        Path path = Path.of(System.getProperty("hash.table", "../test/fixtures/profile-hash-cases.json"));
        JsonElement table = JsonParser.parseString(Files.readString(path, StandardCharsets.UTF_8));
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonElement e : table.getAsJsonArray()) {
            JsonObject c = e.getAsJsonObject();
            String expected = c.get("expected").isJsonNull() ? null : c.get("expected").getAsString();
            tests.add(DynamicTest.dynamicTest(c.get("name").getAsString(), () -> assertEquals(expected,
                    ShouldAssignWorkRule.profileHash(c.get("clusterId").getAsString(), c.get("environment"), c.get("properties")))));
        }
        assertTrue(tests.size() >= 10, "the shared table has at least 10 rows");
        return tests;
    }
}
