package gocd.agent.scaler.forwarder;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * migrate-config, answered inside the plugin: GoCD sends it first while loading the plugin and replaces the plugin's
 * cluster and elastic agent profiles with the answer (ReplaceElasticAgentInformationCommand), so it must never wait on
 * the network nor come back empty. The same rule as the service's (src/gocd/handlers/migrate-config.handler.ts): the
 * profiles unchanged, plugin settings dropped (v5 keeps none); both run test/fixtures/migrate-config-cases.json.
 */
final class MigrateConfigRule {
    private MigrateConfigRule() {}

    static String answer(String body) {
        JsonObject request = null;
        try {
            JsonElement parsed = body == null || body.isBlank() ? null : Json.parse(body);
            if (parsed != null && parsed.isJsonObject()) request = parsed.getAsJsonObject();
        } catch (RuntimeException malformed) {
            request = null;
        }
        JsonObject reply = new JsonObject();
        reply.add("plugin_settings", new JsonObject());
        reply.add("cluster_profiles", listOrEmpty(request, "cluster_profiles"));
        reply.add("elastic_agent_profiles", listOrEmpty(request, "elastic_agent_profiles"));
        return Json.write(reply);
    }

    private static JsonArray listOrEmpty(JsonObject request, String key) {
        JsonElement list = request == null ? null : request.get(key);
        return list != null && list.isJsonArray() ? list.getAsJsonArray() : new JsonArray();
    }
}
