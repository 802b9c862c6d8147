package gocd.agent.scaler.forwarder;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.thoughtworks.go.plugin.api.GoApplicationAccessor;
import com.thoughtworks.go.plugin.api.GoPluginIdentifier;
import com.thoughtworks.go.plugin.api.logging.Logger;
import com.thoughtworks.go.plugin.api.request.DefaultGoApiRequest;
import com.thoughtworks.go.plugin.api.response.GoApiResponse;
import java.time.Clock;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/**
 * Tells GoCD users what the service decided to tell them (the reply's {@code console} and {@code health} entries),
 * through GoCD's application accessor. Each call is made after the plugin's answer to GoCD is settled and can never
 * change it: a failed or refused call is logged, nothing more.
 */
final class GocdUserNotices {
    /** ConsoleLogRequestProcessor; version 2.0 reads the body as ConsoleLogAppendRequest2_0. */
    static final String CONSOLE_LOG_APPEND = "go.processor.console-log.append";
    static final String CONSOLE_LOG_API_VERSION = "2.0";
    /** ServerHealthRequestProcessor; version 1.0 reads a list of PluginHealthMessage and replaces the plugin's set. */
    static final String SERVER_HEALTH_ADD_MESSAGES = "go.processor.server-health.add-messages";
    static final String SERVER_HEALTH_API_VERSION = "1.0";
    /** The fields of ConsoleLogAppendRequest2_0 besides {@code text}. */
    private static final String[] JOB_FIELDS = {"pipeline_name", "pipeline_counter", "stage_name", "stage_counter", "job_name"};
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    private static final Logger LOG = Logger.getLoggerFor(GocdUserNotices.class);

    private final GoApplicationAccessor accessor;
    private final GoPluginIdentifier identifier;
    private final Clock clock;

    GocdUserNotices(GoApplicationAccessor accessor, GoPluginIdentifier identifier, Clock clock) {
        this.accessor = accessor;
        this.identifier = identifier;
        this.clock = clock;
    }

    /**
     * GoCD's console line format, as GoCD's own elastic-agent plugins write it: {@code ##|HH:mm:ss.SSS [go] text} and a
     * newline per line (GoCD's console view parses {@code ^([^|]{2})\|(\d\d:\d\d:\d\d\.\d\d\d) (.*)}, in
     * server/.../javascripts/log_output_transformer.js). The time is GoCD's, like the agent's own lines.
     */
    static String consoleText(String text, LocalTime time) {
        String prefix = "##|" + TIME.format(time) + " [go] ";
        StringBuilder out = new StringBuilder();
        for (String line : text.split("\r?\n", -1)) out.append(prefix).append(line).append('\n');
        return out.toString();
    }

    /** Performs the reply's {@code console} lines, then its {@code health} set. Never throws. */
    void perform(JsonObject reply) {
        if (reply == null) return;
        JsonElement console = reply.get("console");
        if (console != null && console.isJsonArray()) {
            for (JsonElement entry : console.getAsJsonArray()) appendToConsole(entry);
        }
        JsonElement health = reply.get("health");
        if (health != null && health.isJsonArray()) replaceHealth(health.getAsJsonArray());
    }

    /** Replaces the plugin's server-health messages with these {@code {"type","message"}} objects (empty clears). */
    void replaceHealth(JsonArray messages) {
        JsonArray body = new JsonArray();
        for (JsonElement m : messages) {
            if (!m.isJsonObject() || !isString(m.getAsJsonObject().get("message"))) {
                LOG.warn("server-health: skipping an entry without a message");
                continue;
            }
            JsonObject message = new JsonObject();
            JsonElement type = m.getAsJsonObject().get("type");
            message.addProperty("type", isString(type) && type.getAsString().equals("warning") ? "warning" : "error");
            message.add("message", m.getAsJsonObject().get("message"));
            body.add(message);
        }
        submit(SERVER_HEALTH_ADD_MESSAGES, SERVER_HEALTH_API_VERSION, Json.write(body), "server-health: " + body.size() + " message(s)");
    }

    private void appendToConsole(JsonElement entry) {
        if (!entry.isJsonObject() || !isString(entry.getAsJsonObject().get("text"))) {
            LOG.warn("console-log: skipping an entry without text");
            return;
        }
        JsonObject in = entry.getAsJsonObject();
        JsonObject body = new JsonObject();
        for (String field : JOB_FIELDS) {
            if (in.has(field)) body.add(field, in.get(field));
        }
        body.addProperty("text", consoleText(in.get("text").getAsString(), LocalTime.now(clock)));
        String job = String.valueOf(in.get("pipeline_name")) + "/" + in.get("pipeline_counter") + "/" + in.get("stage_name") + "/"
                + in.get("stage_counter") + "/" + in.get("job_name");
        submit(CONSOLE_LOG_APPEND, CONSOLE_LOG_API_VERSION, Json.write(body), "console-log for " + job.replace("\"", ""));
    }

    private void submit(String api, String version, String body, String what) {
        if (accessor == null) {
            LOG.warn(what + ": GoCD has not given the plugin an application accessor yet; not told");
            return;
        }
        DefaultGoApiRequest request = new DefaultGoApiRequest(api, version, identifier);
        request.setRequestBody(body);
        try {
            GoApiResponse response = accessor.submit(request);
            int code = response == null ? -1 : response.responseCode();
            if (code == 200) LOG.debug(what + " told");
            else LOG.warn(what + ": GoCD answered " + (code == -1 ? "nothing" : String.valueOf(code)));
        } catch (RuntimeException e) {
            LOG.warn(what + " failed: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private static boolean isString(JsonElement e) {
        return e != null && e.isJsonPrimitive() && ((JsonPrimitive) e).isString();
    }
}
