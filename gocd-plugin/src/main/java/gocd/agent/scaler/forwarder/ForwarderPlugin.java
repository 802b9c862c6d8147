package gocd.agent.scaler.forwarder;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.thoughtworks.go.plugin.api.GoApplicationAccessor;
import com.thoughtworks.go.plugin.api.GoPlugin;
import com.thoughtworks.go.plugin.api.GoPluginIdentifier;
import com.thoughtworks.go.plugin.api.annotation.Extension;
import com.thoughtworks.go.plugin.api.logging.Logger;
import com.thoughtworks.go.plugin.api.request.GoPluginApiRequest;
import com.thoughtworks.go.plugin.api.response.DefaultGoPluginApiResponse;
import com.thoughtworks.go.plugin.api.response.GoPluginApiResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * GoCD elastic-agent (v5) plugin {@code gocd-agent-scaler}: forwards GoCD's requests to the gocd-agent-scaler service
 * ({@code POST {url}/gocd/requests/{requestName}}) and hands the answer back to GoCD. Some never reach the network:
 * the loader-time requests (answered from the copy built into the jar, see {@link LoaderAnswers}), migrate-config and
 * should-assign-work (the service's rules, run here). create-agent, server-ping and job-completion carry work for the
 * plugin back: GoCD's agents to disable and delete, console lines and server-health messages for GoCD users, which
 * the plugin performs through GoCD's application accessor once its answer ({@code {}}) is settled.
 */
@Extension
public class ForwarderPlugin implements GoPlugin {
    static final String SHOULD_ASSIGN_WORK = "cd.go.elastic-agent.should-assign-work";
    static final String SERVER_PING = "cd.go.elastic-agent.server-ping";
    static final String JOB_COMPLETION = "cd.go.elastic-agent.job-completion";
    static final String MIGRATE_CONFIG = "cd.go.elastic-agent.migrate-config";
    static final String CREATE_AGENT = "cd.go.elastic-agent.create-agent";
    static final GoPluginIdentifier IDENTIFIER = new GoPluginIdentifier("elastic-agent", List.of("5.0"));

    private static final Logger LOG = Logger.getLoggerFor(ForwarderPlugin.class);
    private static final String UNREACHABLE = errorJson("the gocd-agent-scaler service could not be reached; see the plugin log");

    private final ForwarderSettings settings;
    private final ScalerClient client;
    private final LoaderAnswers loaderAnswers;
    private final Clock clock;
    private volatile GoApplicationAccessor accessor;
    /** Which pool agents already took a job; its instance id goes to the service with every server-ping. */
    private final PoolClaims pool;
    /** Each job's wait for its agent, reported with the next server-ping. */
    private final JobWaits waits = new JobWaits();
    /** The warm-pooled profiles of recent create-agents, sent with every server-ping. */
    private final PoolProfiles poolProfiles = new PoolProfiles();

    /**
     * The constructor GoCD's plugin loader calls: settings from the server's environment, timeouts 5 s / 30 s unless
     * the system properties {@code gocd.agent.scaler.connect.timeout.ms} / {@code gocd.agent.scaler.request.timeout.ms}
     * say otherwise.
     */
    public ForwarderPlugin() {
        this(ForwarderSettings.fromEnvironment(),
                ForwarderSettings.timeout(System.getProperties(), ForwarderSettings.CONNECT_TIMEOUT_PROPERTY, ScalerClient.CONNECT_TIMEOUT),
                ForwarderSettings.timeout(System.getProperties(), ForwarderSettings.REQUEST_TIMEOUT_PROPERTY, ScalerClient.REQUEST_DEADLINE));
    }

    ForwarderPlugin(ForwarderSettings settings, Duration connectTimeout, Duration deadline) {
        this(settings, connectTimeout, deadline, LoaderAnswers.builtIn(), Clock.systemDefaultZone());
    }

    ForwarderPlugin(ForwarderSettings settings, Duration connectTimeout, Duration deadline, LoaderAnswers loaderAnswers, Clock clock) {
        this(settings, connectTimeout, deadline, loaderAnswers, clock, new PoolClaims());
    }

    ForwarderPlugin(ForwarderSettings settings, Duration connectTimeout, Duration deadline, LoaderAnswers loaderAnswers, Clock clock, PoolClaims pool) {
        this.settings = settings;
        this.pool = pool;
        this.client = settings.usable() ? new ScalerClient(settings, connectTimeout, deadline) : null;
        this.loaderAnswers = loaderAnswers;
        this.clock = clock;
        // Load the rule's classes (Gson, the pattern) now, not inside GoCD's first locked assignment loop.
        ShouldAssignWorkRule.evaluate("{\"agent\":{\"agent_id\":\"ea-1-00000000\"},\"job_identifier\":{\"job_id\":1}}");
        LOG.info("gocd-agent-scaler forwarder: loader-time answers built into this jar from " + loaderAnswers.service());
        if (settings.usable()) {
            LOG.info("gocd-agent-scaler forwarder: requests go to " + settings.target());
        } else {
            LOG.error("gocd-agent-scaler forwarder is not configured: " + settings.problem()
                    + ". Set them in the GoCD server's environment and restart the server.");
        }
    }

    ScalerClient client() {
        return client;
    }

    @Override
    public void initializeGoApplicationAccessor(GoApplicationAccessor goApplicationAccessor) {
        this.accessor = goApplicationAccessor;
    }

    @Override
    public GoPluginIdentifier pluginIdentifier() {
        return IDENTIFIER;
    }

    /** Called by several GoCD threads at once; keeps no per-request state outside this call. */
    @Override
    public GoPluginApiResponse handle(GoPluginApiRequest request) {
        String name = request.requestName();
        String body = request.requestBody();
        if (SHOULD_ASSIGN_WORK.equals(name)) {
            // Inside GoCD's locked assignment loop: never wait on the network (or a Lambda cold start) here.
            ShouldAssignWorkRule.Decision d = pool.decide(body);
            if (d.assign()) waits.assigned(d.agentId(), d.jobId(), d.pool(), clock.millis());
            return new DefaultGoPluginApiResponse(200, Boolean.toString(d.assign()));
        }
        // While loading the plugin, GoCD waits without a time limit and unloads it on any answer but 200: these never
        // touch the network (see LoaderAnswers, MigrateConfigRule).
        GoPluginApiResponse builtIn = loaderAnswers.answer(name);
        if (builtIn != null) return builtIn;
        if (MIGRATE_CONFIG.equals(name)) return new DefaultGoPluginApiResponse(200, MigrateConfigRule.answer(body));
        try {
            if (name == null) return failure(400, errorJson("no request name"));
            if (SERVER_PING.equals(name) || JOB_COMPLETION.equals(name)) return forwardWithAgents(name, body);
            if (CREATE_AGENT.equals(name)) return forwardForWork(name, body);
            return forward(name, body);
        } catch (RuntimeException e) {
            LOG.error(name + ": unexpected " + e.getClass().getSimpleName() + " in the forwarder", e);
            return failure(500, errorJson("unexpected error in the gocd-agent-scaler forwarder"));
        }
    }

    private GoPluginApiResponse forward(String name, String body) {
        ScalerClient.Reply reply = send(name, body);
        if (reply == null) return failure(500, UNREACHABLE);
        if (!reply.ok()) return failure(reply.status, reply.body);
        // GoCD accepts only 200 as success; any 2xx of the service is a success.
        return new DefaultGoPluginApiResponse(200, reply.body);
    }

    /** create-agent: forward, then tell GoCD users what the reply says; GoCD ignores this request's answer body. */
    private GoPluginApiResponse forwardForWork(String name, String body) {
        recordCreated(body);
        ScalerClient.Reply reply = send(name, body);
        if (reply == null) return failure(500, UNREACHABLE);
        if (!reply.ok()) return failure(reply.status, reply.body);
        GoPluginApiResponse answer = new DefaultGoPluginApiResponse(200, "{}");
        notices().perform(asObject(reply.body));
        return answer;
    }

    /** The job of a create-agent body, for its wait (JobWaits); a body without one is not measured. */
    private void recordCreated(String body) {
        JsonObject message = asObject(body);
        if (message != null) poolProfiles.saw(message, clock.millis());
        JsonElement job = message == null ? null : message.get("job_identifier");
        JsonElement id = job != null && job.isJsonObject() ? job.getAsJsonObject().get("job_id") : null;
        if (id == null || !id.isJsonPrimitive() || !id.getAsJsonPrimitive().isNumber()) return;
        try {
            waits.created(Math.round(id.getAsDouble()), clock.millis());
        } catch (NumberFormatException e) {
            // Not a job id the rule would accept either: nothing to measure.
        }
    }

    private GocdUserNotices notices() {
        return new GocdUserNotices(accessor, IDENTIFIER, clock);
    }

    /** server-ping / job-completion: add GoCD's agent list, forward, then execute the reply's agent_actions. */
    private GoPluginApiResponse forwardWithAgents(String name, String body) {
        GocdAccessorCalls calls = new GocdAccessorCalls(accessor, IDENTIFIER);
        JsonArray agents = calls.listAgents();
        String forwarded = body;
        boolean ping = SERVER_PING.equals(name);
        if (agents != null || ping) {
            JsonObject message = asObject(body);
            if (message != null) {
                if (agents != null) message.add("agents", agents);
                // The service names warm-pool agents after this instance: only they can take jobs here.
                if (ping) {
                    message.addProperty("forwarder_instance", pool.instance());
                    JsonArray measured = waits.drain();
                    if (!measured.isEmpty()) message.add("job_waits", measured);
                    JsonArray pools = poolProfiles.current(clock.millis());
                    if (!pools.isEmpty()) message.add("warm_pools", pools);
                }
                forwarded = Json.write(message);
            } else {
                LOG.warn(name + ": GoCD's body is not a JSON object; forwarded as it is");
            }
        }
        ScalerClient.Reply reply = send(name, forwarded);
        if (reply == null || !reply.ok()) {
            if (SERVER_PING.equals(name)) reportUnreachable(reply);
            return reply == null ? failure(500, UNREACHABLE) : failure(reply.status, reply.body);
        }
        // GoCD ignores the body of these two; the work in the reply is for the plugin, not for GoCD, so it gets {}.
        GoPluginApiResponse answer = new DefaultGoPluginApiResponse(200, "{}");
        JsonObject work = asObject(reply.body);
        JsonElement actions = work == null ? null : work.get("agent_actions");
        if (actions != null && actions.isJsonObject()) {
            calls.apply(ids(actions.getAsJsonObject().get("disable")), ids(actions.getAsJsonObject().get("delete")), agents);
        }
        notices().perform(work);
        return answer;
    }

    /**
     * The one server-health message the plugin decides by itself: when server-ping (every minute) gets no good answer,
     * only the plugin knows, and nothing is launched or cleaned up until it does. The service's next good server-ping
     * answer carries the full set of messages, which replaces this one.
     */
    private void reportUnreachable(ScalerClient.Reply reply) {
        String why = client == null ? "the forwarder is not configured: " + settings.problem()
                : reply == null ? "the service at " + settings.target() + " did not answer (see the plugin log)"
                : "the service at " + settings.target() + " answered " + reply.status
                        + (reply.status == 401 ? " (GOCD_AGENT_SCALER_TOKEN is not the service's forwarder token)" : "");
        JsonObject message = new JsonObject();
        message.addProperty("type", "error");
        message.addProperty("message", "gocd-agent-scaler: " + why + ". Elastic agents are neither launched nor cleaned up until server-ping gets through.");
        JsonArray messages = new JsonArray();
        messages.add(message);
        notices().replaceHealth(messages);
    }

    /** The service's reply, or null (logged) when there was none: not configured, refused, timed out. */
    private ScalerClient.Reply send(String name, String body) {
        if (client == null) {
            LOG.error(name + ": not forwarded, the forwarder is not configured: " + settings.problem());
            return null;
        }
        long started = System.nanoTime();
        try {
            ScalerClient.Reply reply = client.post(name, body);
            long ms = (System.nanoTime() - started) / 1_000_000;
            if (reply.ok()) LOG.debug(name + " -> " + reply.status + " in " + ms + " ms");
            else LOG.error(name + ": the service at " + settings.target() + " answered " + reply.status + " in " + ms + " ms");
            return reply;
        } catch (ScalerClient.ForwardException e) {
            LOG.error(name + ": no answer from the service at " + settings.target() + ": " + e.getMessage());
            return null;
        }
    }

    /**
     * The answer when the service did not answer well: an error status, which GoCD logs and, for create-agent, retries
     * on its own two minutes later. Never used for the loader-time requests, whose non-200 would unload the plugin.
     */
    private static GoPluginApiResponse failure(int status, String detail) {
        int code = status >= 200 && status < 300 ? 500 : status;
        String text = detail == null || detail.isEmpty() ? errorJson("gocd-agent-scaler answered " + status) : detail;
        return new DefaultGoPluginApiResponse(code, text);
    }

    private static String errorJson(String message) {
        JsonObject o = new JsonObject();
        o.addProperty("message", message);
        return Json.write(o);
    }

    private static JsonObject asObject(String text) {
        if (text == null || text.isBlank()) return null;
        try {
            JsonElement e = Json.parse(text);
            return e.isJsonObject() ? e.getAsJsonObject() : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static List<String> ids(JsonElement list) {
        List<String> out = new ArrayList<>();
        if (list == null || !list.isJsonArray()) return out;
        for (JsonElement e : list.getAsJsonArray()) {
            if (e.isJsonPrimitive() && ((JsonPrimitive) e).isString() && !e.getAsString().isEmpty()) out.add(e.getAsString());
        }
        return out;
    }
}
