package gocd.agent.scaler.forwarder;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.thoughtworks.go.plugin.api.response.DefaultGoPluginApiResponse;
import com.thoughtworks.go.plugin.api.response.GoPluginApiResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The answers to the requests GoCD sends while loading the plugin (icon, capabilities, both profile metadata lists and
 * views, the plugin-settings configuration and view), built into the jar by build.sh from the service's own answers
 * (scripts/plugin-loader-answers.ts). GoCD unloads an elastic-agent plugin whose answer to any of the elastic ones is
 * not 200 (PluginRequestHelper throws, PluginLoader marks the plugin invalid), and puts no time limit on them, so they
 * never depend on the network: the service being down, slow or not configured changes nothing here.
 */
final class LoaderAnswers {
    /** Where build.sh puts the generated file, next to this class in the jar. */
    static final String RESOURCE = "loader-answers.json";

    private static final class Answer {
        final int status;
        final String body;

        Answer(int status, String body) {
            this.status = status;
            this.body = body;
        }
    }

    private final Map<String, Answer> answers;
    private final String service;

    private LoaderAnswers(Map<String, Answer> answers, String service) {
        this.answers = Collections.unmodifiableMap(answers);
        this.service = service;
    }

    /** The copy inside this jar; a jar built without it is broken, and says so at load rather than on first use. */
    static LoaderAnswers builtIn() {
        try (InputStream in = LoaderAnswers.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException(RESOURCE + " is missing from the plugin jar; rebuild it with gocd-plugin/build.sh");
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + RESOURCE + " from the plugin jar", e);
        }
    }

    /** {@code {"service": "...", "answers": {"<request name>": {"status": 200, "body": "<exact text>"}}}}. */
    static LoaderAnswers parse(String json) {
        JsonObject root = Json.parse(json).getAsJsonObject();
        Map<String, Answer> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : root.getAsJsonObject("answers").entrySet()) {
            JsonObject a = e.getValue().getAsJsonObject();
            out.put(e.getKey(), new Answer(a.get("status").getAsInt(), a.get("body").getAsString()));
        }
        if (out.isEmpty()) throw new IllegalStateException(RESOURCE + " holds no answers");
        return new LoaderAnswers(out, root.has("service") ? root.get("service").getAsString() : "unknown");
    }

    /** A fresh response for this request name, or null when it is not a loader-time request. */
    GoPluginApiResponse answer(String requestName) {
        Answer a = requestName == null ? null : answers.get(requestName);
        return a == null ? null : new DefaultGoPluginApiResponse(a.status, a.body);
    }

    /** The request names answered from the jar, in GoCD's order. */
    Iterable<String> names() {
        return answers.keySet();
    }

    /** The service version the copy was generated from. */
    String service() {
        return service;
    }
}
