package gocd.agent.scaler.forwarder;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.thoughtworks.go.plugin.api.GoApplicationAccessor;
import com.thoughtworks.go.plugin.api.GoPluginIdentifier;
import com.thoughtworks.go.plugin.api.logging.Logger;
import com.thoughtworks.go.plugin.api.request.DefaultGoApiRequest;
import com.thoughtworks.go.plugin.api.response.GoApiResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The three elastic-agent processor calls the plugin makes to GoCD (processor API version 1.0). */
final class GocdAccessorCalls {
    static final String LIST_AGENTS = "go.processor.elastic-agents.list-agents";
    static final String DISABLE_AGENTS = "go.processor.elastic-agents.disable-agents";
    static final String DELETE_AGENTS = "go.processor.elastic-agents.delete-agents";
    static final String PROCESSOR_API_VERSION = "1.0";

    private static final Logger LOG = Logger.getLoggerFor(GocdAccessorCalls.class);

    private final GoApplicationAccessor accessor;
    private final GoPluginIdentifier identifier;

    GocdAccessorCalls(GoApplicationAccessor accessor, GoPluginIdentifier identifier) {
        this.accessor = accessor;
        this.identifier = identifier;
    }

    /**
     * GoCD's agents of this plugin, or null when the call failed. Null is "unknown", never "none": the service then
     * deletes no agent and stops no task for want of registration.
     */
    JsonArray listAgents() {
        if (accessor == null) {
            LOG.warn("list-agents: GoCD has not given the plugin an application accessor yet; agent list unknown");
            return null;
        }
        try {
            GoApiResponse response = accessor.submit(new DefaultGoApiRequest(LIST_AGENTS, PROCESSOR_API_VERSION, identifier));
            if (response == null || response.responseCode() != 200) {
                LOG.warn("list-agents: GoCD answered " + (response == null ? "nothing" : response.responseCode()) + "; agent list unknown");
                return null;
            }
            JsonElement agents = Json.parse(response.responseBody());
            if (!agents.isJsonArray()) {
                LOG.warn("list-agents: GoCD's answer is not a JSON array; agent list unknown");
                return null;
            }
            return agents.getAsJsonArray();
        } catch (RuntimeException e) {
            LOG.warn("list-agents failed; agent list unknown: " + e.getClass().getSimpleName());
            return null;
        }
    }

    /**
     * Disables, then deletes, the agents the service named. Agent objects come from GoCD's own list when it has
     * them (GoCD reads only agent_id, but sends whole objects and so do we), else {@code {"agent_id": id}}.
     * Deleting goes ahead even when disabling failed: the service asks for a delete only once the agent's task
     * is stopped or gone, and a failed call is simply asked again on the next server-ping.
     */
    void apply(List<String> disable, List<String> delete, JsonArray knownAgents) {
        if (disable.isEmpty() && delete.isEmpty()) return;
        if (accessor == null) {
            LOG.error("agent_actions: no application accessor; cannot disable " + disable + " or delete " + delete);
            return;
        }
        Map<String, JsonObject> byId = new LinkedHashMap<>();
        if (knownAgents != null) {
            for (JsonElement a : knownAgents) {
                if (!a.isJsonObject()) continue;
                JsonElement id = a.getAsJsonObject().get("agent_id");
                if (id != null && id.isJsonPrimitive() && id.getAsJsonPrimitive().isString()) byId.put(id.getAsString(), a.getAsJsonObject());
            }
        }
        if (!disable.isEmpty()) submit(DISABLE_AGENTS, disable, byId);
        if (!delete.isEmpty()) submit(DELETE_AGENTS, delete, byId);
    }

    private void submit(String api, List<String> ids, Map<String, JsonObject> byId) {
        JsonArray body = new JsonArray();
        for (String id : ids) {
            JsonObject known = byId.get(id);
            if (known != null) {
                body.add(known);
            } else {
                JsonObject bare = new JsonObject();
                bare.addProperty("agent_id", id);
                body.add(bare);
            }
        }
        DefaultGoApiRequest request = new DefaultGoApiRequest(api, PROCESSOR_API_VERSION, identifier);
        request.setRequestBody(Json.write(body));
        try {
            GoApiResponse response = accessor.submit(request);
            int code = response == null ? -1 : response.responseCode();
            if (code == 200) LOG.info(api + " " + ids);
            else LOG.error(api + " " + ids + ": GoCD answered " + (code == -1 ? "nothing" : code));
        } catch (RuntimeException e) {
            LOG.error(api + " " + ids + " failed: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
