package gocd.agent.scaler.harness;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.thoughtworks.go.plugin.api.GoApplicationAccessor;
import com.thoughtworks.go.plugin.api.GoPluginIdentifier;
import com.thoughtworks.go.plugin.api.request.GoApiRequest;
import com.thoughtworks.go.plugin.api.response.DefaultGoApiResponse;
import com.thoughtworks.go.plugin.api.response.GoApiResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * GoCD's side of GoApplicationAccessor, with the rules of the processors the forwarder calls, read in gocd/gocd at
 * commit f17b6f3: server/src/main/java/com/thoughtworks/go/server/service/plugins/processor/console/
 * ConsoleLogRequestProcessor.java (+ v2/ConsoleLogAppendRequest2_0.java, ConsoleService.appendToConsoleLogIoSafe),
 * .../processor/serverhealth/ServerHealthRequestProcessor.java (+ v1/MessageHandlerForServerHealthRequestProcessorV1,
 * PluginHealthMessage), and plugin-infra/go-plugin-infra/.../PluginAwareDefaultGoApplicationAccessor (404 for an API
 * without a processor). Every call is recorded with GoCD's verdict; the state GoCD keeps is kept too: each job's
 * console text and the plugin's server-health messages. Failures can be injected per API.
 */
final class GocdAccessor extends GoApplicationAccessor {
    static final String LIST_AGENTS = "go.processor.elastic-agents.list-agents";
    static final String DISABLE_AGENTS = "go.processor.elastic-agents.disable-agents";
    static final String DELETE_AGENTS = "go.processor.elastic-agents.delete-agents";
    static final String CONSOLE_LOG = "go.processor.console-log.append";
    static final String SERVER_HEALTH = "go.processor.server-health.add-messages";

    final List<JsonObject> calls = Collections.synchronizedList(new ArrayList<>());
    /** Console text per job ({@code pipeline/counter/stage/counter/job}), as ConsoleService appends it. */
    final Map<String, StringBuilder> consoles = new ConcurrentHashMap<>();
    /** The plugin's server-health messages: each add-messages call replaces them all. */
    volatile JsonArray health = new JsonArray();
    volatile int listAgentsStatus = 200;
    volatile String listAgentsBody = "[]";
    /** Injected failures: API -> status to answer, or -1 to throw. */
    final Map<String, Integer> failures = new ConcurrentHashMap<>();

    @Override
    public GoApiResponse submit(GoApiRequest request) {
        String api = request.api();
        GoPluginIdentifier id = request.pluginIdentifier();
        JsonObject call = new JsonObject();
        call.addProperty("api", api);
        call.addProperty("version", request.apiVersion());
        call.addProperty("extension", id == null ? null : id.getExtension());
        call.addProperty("body", request.requestBody());
        calls.add(call);
        Integer injected = failures.get(api);
        if (injected != null) {
            call.addProperty("status", injected);
            if (injected < 0) throw new IllegalStateException("GoCD failed (injected) for " + api);
            return response(injected, "{\"message\":\"injected failure\"}");
        }
        GoApiResponse r = process(api, request);
        call.addProperty("status", r.responseCode());
        return r;
    }

    private GoApiResponse process(String api, GoApiRequest request) {
        switch (api) {
            case LIST_AGENTS:
                return response(listAgentsStatus, listAgentsBody);
            case DISABLE_AGENTS:
            case DELETE_AGENTS:
                return response(200, "");
            case CONSOLE_LOG:
                return appendToConsole(request);
            case SERVER_HEALTH:
                return addHealthMessages(request);
            default:
                // PluginAwareDefaultGoApplicationAccessor: no processor registered for the API answers 404.
                return response(404, "");
        }
    }

    /**
     * ConsoleLogRequestProcessor: API versions 1.0 and 2.0 only ("Unsupported ... API version"); 2.0 reads the body as
     * ConsoleLogAppendRequest2_0 (pipeline_name, pipeline_counter: Integer, stage_name, stage_counter, job_name, text)
     * and ConsoleService appends the text. Anything that fails answers 500 {"message": "Error: ..."}.
     */
    private GoApiResponse appendToConsole(GoApiRequest request) {
        if (!"1.0".equals(request.apiVersion()) && !"2.0".equals(request.apiVersion())) {
            return response(500, "{ \"message\": \"Error: Unsupported '" + CONSOLE_LOG + "' API version: " + request.apiVersion() + "\" }");
        }
        try {
            JsonObject b = JsonParser.parseString(request.requestBody()).getAsJsonObject();
            boolean v2 = "2.0".equals(request.apiVersion());
            String[] names = v2 ? new String[] {"pipeline_name", "pipeline_counter", "stage_name", "stage_counter", "job_name", "text"}
                    : new String[] {"pipelineName", "pipelineCounter", "stageName", "stageCounter", "jobName", "text"};
            for (int i = 0; i < names.length; i++) {
                JsonElement e = b.get(names[i]);
                boolean counter = i == 1;
                if (e == null || !e.isJsonPrimitive()) throw new IllegalArgumentException(names[i] + " is missing");
                if (v2 && counter && !e.getAsJsonPrimitive().isNumber()) throw new IllegalArgumentException("pipeline_counter is not an Integer");
                if (v2 && counter) e.getAsInt();
                if (!(v2 && counter) && !e.getAsJsonPrimitive().isString()) throw new IllegalArgumentException(names[i] + " is not a string");
            }
            String job = b.get(names[0]).getAsString() + "/" + b.get(names[1]).getAsString() + "/" + b.get(names[2]).getAsString() + "/"
                    + b.get(names[3]).getAsString() + "/" + b.get(names[4]).getAsString();
            consoles.computeIfAbsent(job, k -> new StringBuilder()).append(b.get("text").getAsString());
            return response(200, null);
        } catch (RuntimeException e) {
            return response(500, "{ \"message\": \"Error: " + e.getMessage() + "\" }");
        }
    }

    /**
     * ServerHealthRequestProcessor: only API 1.0 has a message handler (another version fails, answered 500); the body
     * is a list of PluginHealthMessage {type, message}; "warning" (any case) is a warning, anything else an error; the
     * plugin's previous messages are removed first (removeByScope), so each call replaces the set.
     */
    private GoApiResponse addHealthMessages(GoApiRequest request) {
        if (!"1.0".equals(request.apiVersion())) return response(500, "{ \"message\": \"no handler for version " + request.apiVersion() + "\" }");
        try {
            JsonArray list = JsonParser.parseString(request.requestBody()).getAsJsonArray();
            JsonArray next = new JsonArray();
            for (JsonElement e : list) {
                JsonObject m = e.getAsJsonObject();
                JsonObject state = new JsonObject();
                JsonElement type = m.get("type");
                state.addProperty("level", type != null && type.isJsonPrimitive() && type.getAsString().equalsIgnoreCase("warning") ? "warning" : "error");
                JsonElement message = m.get("message");
                state.addProperty("message", message == null || message.isJsonNull() ? null : message.getAsString());
                next.add(state);
            }
            health = next;
            return response(200, null);
        } catch (RuntimeException e) {
            return response(500, "{ \"message\": \"Failed to deserialize message from plugin: " + request.requestBody() + "\" }");
        }
    }

    private static GoApiResponse response(int status, String body) {
        DefaultGoApiResponse r = new DefaultGoApiResponse(status);
        r.setResponseBody(body);
        return r;
    }

    JsonArray callsSince(int from) {
        JsonArray out = new JsonArray();
        synchronized (calls) {
            for (int i = from; i < calls.size(); i++) out.add(calls.get(i));
        }
        return out;
    }

    JsonObject consolesJson() {
        Map<String, StringBuilder> sorted = new LinkedHashMap<>();
        consoles.keySet().stream().sorted().forEach(k -> sorted.put(k, consoles.get(k)));
        JsonObject out = new JsonObject();
        sorted.forEach((k, v) -> out.addProperty(k, v.toString()));
        return out;
    }
}
