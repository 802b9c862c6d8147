package gocd.agent.scaler.harness;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import java.util.Map;

/**
 * What GoCD does while it loads an elastic-agent plugin, and the checks its converters make on the answers. Each rule
 * names the GoCD server class it comes from, read in gocd/gocd at commit f17b6f3 (2026-08):
 * <ul>
 * <li>plugin-infra/go-plugin-infra/.../infra/PluginLoader.java (post-load hooks, then listeners; a throw unloads),
 * <li>plugin-infra/go-plugin-infra/.../infra/DefaultPluginManager.java (submitTo: initializer first, no time limit),
 * <li>plugin-infra/go-plugin-access/.../access/PluginRequestHelper.java (only 200 is success),
 * <li>plugin-infra/go-plugin-access/.../access/common/MetadataLoader.java and elastic/ElasticAgentPluginInfoBuilder.java,
 * <li>plugin-infra/go-plugin-access/.../access/elastic/v5/ElasticAgentExtensionConverterV5.java and its DTOs,
 * <li>plugin-infra/go-plugin-access/.../access/common/settings/PluginSettingsMetadataLoader.java and
 *     PluginSettingsJsonMessageHandlerBase.java,
 * <li>server/.../server/service/ElasticAgentInformationMigratorImpl.java (migrate-config as a post-load hook).
 * </ul>
 */
final class GocdLoaderRules {
    private GocdLoaderRules() {}

    static final String MIGRATE_CONFIG = "cd.go.elastic-agent.migrate-config";
    static final String SETTINGS_CONFIGURATION = "go.plugin-settings.get-configuration";
    static final String SETTINGS_VIEW = "go.plugin-settings.get-view";

    /**
     * ElasticAgentPluginInfoBuilder.pluginInfoFor, in its order: elasticElasticAgentProfileSettings (metadata, view),
     * elasticClusterProfileSettings (v5 supports cluster profiles: metadata, view), image, capabilities. It runs in
     * ElasticAgentMetadataLoader.pluginLoaded (MetadataLoader), which catches nothing.
     */
    static final List<String> PLUGIN_INFO_REQUESTS = List.of(
            "cd.go.elastic-agent.get-elastic-agent-profile-metadata",
            "cd.go.elastic-agent.get-elastic-agent-profile-view",
            "cd.go.elastic-agent.get-cluster-profile-metadata",
            "cd.go.elastic-agent.get-cluster-profile-view",
            "cd.go.elastic-agent.get-icon",
            "cd.go.elastic-agent.get-capabilities");

    /** Why GoCD would refuse this answer, or null when its parser takes it. */
    static String problem(String request, int status, String body) {
        // PluginRequestHelper.submitRequest: any code but 200 throws "The plugin sent a response that could not be
        // understood by Go"; a null response throws too.
        if (status != 200) return "answered " + status + " (PluginRequestHelper accepts only 200)";
        try {
            JsonElement json = JsonParser.parseString(body == null ? "" : body);
            switch (request) {
                case "cd.go.elastic-agent.get-elastic-agent-profile-metadata":
                case "cd.go.elastic-agent.get-cluster-profile-metadata":
                    return metadataProblem(json);
                case "cd.go.elastic-agent.get-elastic-agent-profile-view":
                case "cd.go.elastic-agent.get-cluster-profile-view":
                    return viewProblem(json);
                case "cd.go.elastic-agent.get-icon":
                    return iconProblem(json);
                case "cd.go.elastic-agent.get-capabilities":
                    return capabilitiesProblem(json);
                case MIGRATE_CONFIG:
                    return migrateProblem(json);
                case SETTINGS_CONFIGURATION:
                    return settingsConfigurationProblem(json);
                case SETTINGS_VIEW:
                    return viewProblem(json);
                default:
                    return null;
            }
        } catch (RuntimeException e) {
            return "body does not parse: " + e.getMessage();
        }
    }

    /** PluginProfileMetadataKeys.fromJSON: a list of {key, metadata: {required: boolean, secure: boolean}}. */
    private static String metadataProblem(JsonElement json) {
        if (!json.isJsonArray()) return "metadata is not a JSON list";
        for (JsonElement e : json.getAsJsonArray()) {
            if (!e.isJsonObject()) return "a metadata entry is not an object";
            JsonObject o = e.getAsJsonObject();
            if (!isString(o.get("key"))) return "a metadata entry has no string key";
            JsonElement m = o.get("metadata");
            if (m != null && !m.isJsonNull()) {
                if (!m.isJsonObject()) return "metadata of " + o.get("key") + " is not an object";
                for (String flag : List.of("required", "secure")) {
                    JsonElement b = m.getAsJsonObject().get(flag);
                    if (b != null && !(b.isJsonPrimitive() && b.getAsJsonPrimitive().isBoolean())) return flag + " of " + o.get("key") + " is not a boolean";
                }
            }
        }
        return null;
    }

    /** ElasticAgentExtensionConverterV5.getProfileViewResponseFromBody: "Template was blank!" otherwise. */
    private static String viewProblem(JsonElement json) {
        if (!json.isJsonObject()) return "view is not a JSON object";
        JsonElement t = json.getAsJsonObject().get("template");
        if (!isString(t) || t.getAsString().isBlank()) return "Template was blank!";
        return null;
    }

    /** ImageDeserializer: a map of strings with content_type and data (GoCD hashes and serves them). */
    private static String iconProblem(JsonElement json) {
        if (!json.isJsonObject()) return "icon is not a JSON object";
        for (String k : List.of("content_type", "data")) {
            if (!isString(json.getAsJsonObject().get(k))) return "icon has no string " + k;
        }
        return null;
    }

    /** CapabilitiesDTO: the three supports_* flags are booleans. */
    private static String capabilitiesProblem(JsonElement json) {
        if (!json.isJsonObject()) return "capabilities is not a JSON object";
        for (String k : List.of("supports_plugin_status_report", "supports_cluster_status_report", "supports_agent_status_report")) {
            JsonElement b = json.getAsJsonObject().get(k);
            if (b != null && !(b.isJsonPrimitive() && b.getAsJsonPrimitive().isBoolean())) return k + " is not a boolean";
        }
        return null;
    }

    /**
     * ElasticAgentInformationDTO (ElasticAgentInformationMigratorImpl's post-load hook): plugin_settings a map of
     * strings, cluster_profiles and elastic_agent_profiles lists of objects. GoCD then replaces the plugin's profiles
     * with these lists, so an answer without them would wipe every profile.
     */
    private static String migrateProblem(JsonElement json) {
        if (!json.isJsonObject()) return "migrate-config answer is not a JSON object";
        JsonObject o = json.getAsJsonObject();
        for (String k : List.of("cluster_profiles", "elastic_agent_profiles")) {
            JsonElement list = o.get(k);
            if (list == null || !list.isJsonArray()) return k + " is missing: GoCD would wipe the plugin's profiles";
            for (JsonElement e : list.getAsJsonArray()) if (!e.isJsonObject()) return "an entry of " + k + " is not an object";
        }
        JsonElement settings = o.get("plugin_settings");
        if (settings != null && !settings.isJsonNull()) {
            if (!settings.isJsonObject()) return "plugin_settings is not a map";
            for (Map.Entry<String, JsonElement> e : settings.getAsJsonObject().entrySet()) {
                if (!e.getValue().isJsonNull() && !e.getValue().isJsonPrimitive()) return "plugin_settings." + e.getKey() + " is not a string";
            }
        }
        return null;
    }

    /**
     * PluginSettingsJsonMessageHandlerBase.responseMessageForPluginSettingsConfiguration: a non-empty map ("Empty
     * response body" otherwise) whose values are maps.
     */
    private static String settingsConfigurationProblem(JsonElement json) {
        if (!json.isJsonObject()) return "Plugin Settings Configuration should be returned as a map";
        if (json.getAsJsonObject().size() == 0) return "Empty response body";
        for (Map.Entry<String, JsonElement> e : json.getAsJsonObject().entrySet()) {
            if (e.getKey().isEmpty()) return "Plugin Settings Configuration key cannot be empty";
            if (!e.getValue().isJsonObject()) return "Plugin Settings Configuration properties for key '" + e.getKey() + "' should be represented as a Map";
        }
        return null;
    }

    private static boolean isString(JsonElement e) {
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString();
    }
}
