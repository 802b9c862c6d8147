package gocd.agent.scaler.harness;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.thoughtworks.go.plugin.api.GoPlugin;
import com.thoughtworks.go.plugin.api.GoPluginIdentifier;
import com.thoughtworks.go.plugin.api.logging.Logger;
import com.thoughtworks.go.plugin.api.request.DefaultGoPluginApiRequest;
import com.thoughtworks.go.plugin.api.response.GoPluginApiResponse;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Plays GoCD's plugin host for the end-to-end tests: loads the built plugin jar as GoCD does (PluginBundle), hands
 * it GoCD's side of the application accessor (GocdAccessor) before the first request, as DefaultPluginManager's
 * ensureInitializerInvoked does, then runs commands from stdin and prints one JSON line per command.
 *
 * <pre>
 * load BASE64_MIGRATE_BODY|-       GoCD's loader sequence (GocdLoaderRules) and its verdict: would GoCD keep it?
 * handle NAME BASE64_BODY|-         plugin.handle(NAME, body) as GoCD calls it (extension elastic-agent, 5.0)
 * parallel N NAME BASE64_BODY|-     N concurrent handle calls from N threads
 * bench N NAME BASE64_BODY|-        N sequential handle calls; latency percentiles in microseconds ("__SEQ__" in the
 *                                   body, quotes included, becomes the call's number: one new job per call)
 * list-agents STATUS BASE64_BODY    what go.processor.elastic-agents.list-agents answers from now on
 * fail API STATUS|throw|clear       make GoCD answer API with STATUS, or throw, from now on (clear: normal again)
 * state                             the job consoles and server-health messages GoCD holds now
 * </pre>
 */
public final class GocdPluginHost {
    private static final Gson GSON = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();
    private static final RecordingLoggingService LOGS = new RecordingLoggingService();

    public static void main(String[] args) throws Exception {
        if (args.length != 1) throw new IllegalArgumentException("usage: GocdPluginHost <plugin.jar>");
        Logger.initialize(LOGS);
        PluginBundle bundle = PluginBundle.load(new File(args[0]));
        GoPlugin plugin = bundle.newPlugin();
        GocdAccessor accessor = new GocdAccessor();
        plugin.initializeGoApplicationAccessor(accessor);
        GoPluginIdentifier id = plugin.pluginIdentifier();

        JsonObject loaded = op("loaded");
        loaded.addProperty("pluginId", bundle.pluginId);
        loaded.addProperty("extensionClass", bundle.extension.getName());
        loaded.addProperty("extension", id.getExtension());
        loaded.add("versions", GSON.toJsonTree(id.getSupportedExtensionVersions()));
        loaded.addProperty("gsonFrom", gsonLocation(bundle));
        loaded.add("entries", GSON.toJsonTree(bundle.entries));
        print(loaded);

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isBlank()) continue;
            String[] w = line.trim().split(" ");
            switch (w[0]) {
                case "load":
                    print(load(plugin, accessor, decode(w[1])));
                    break;
                case "handle": {
                    int from = accessor.calls.size();
                    long t = System.nanoTime();
                    GoPluginApiResponse r = plugin.handle(request(w[1], decode(w[2])));
                    long ms = (System.nanoTime() - t) / 1_000_000;
                    JsonObject o = op("handle");
                    o.addProperty("request", w[1]);
                    o.addProperty("status", r.responseCode());
                    o.addProperty("body", r.responseBody());
                    o.addProperty("ms", ms);
                    o.add("accessorCalls", accessor.callsSince(from));
                    print(o);
                    break;
                }
                case "parallel":
                    print(parallel(plugin, Integer.parseInt(w[1]), w[2], decode(w[3])));
                    break;
                case "bench":
                    print(bench(plugin, Integer.parseInt(w[1]), w[2], decode(w[3])));
                    break;
                case "list-agents": {
                    accessor.listAgentsStatus = Integer.parseInt(w[1]);
                    accessor.listAgentsBody = decode(w[2]);
                    JsonObject o = op("list-agents");
                    o.addProperty("status", accessor.listAgentsStatus);
                    print(o);
                    break;
                }
                case "fail": {
                    if (w[2].equals("clear")) accessor.failures.remove(w[1]);
                    else accessor.failures.put(w[1], w[2].equals("throw") ? -1 : Integer.parseInt(w[2]));
                    JsonObject o = op("fail");
                    o.addProperty("api", w[1]);
                    o.addProperty("mode", w[2]);
                    print(o);
                    break;
                }
                case "state": {
                    JsonObject o = op("state");
                    o.add("consoles", accessor.consolesJson());
                    o.add("health", accessor.health);
                    print(o);
                    break;
                }
                default:
                    throw new IllegalArgumentException("unknown command " + w[0]);
            }
        }
        JsonObject logs = op("logs");
        logs.add("lines", GSON.toJsonTree(LOGS.lines()));
        print(logs);
        System.out.flush();
        System.exit(0);
    }

    /**
     * GoCD's load of an elastic-agent plugin after the bundle is installed (PluginLoader.loadPlugin): the post-load hook
     * sends migrate-config (ElasticAgentInformationMigratorImpl: a failure marks the plugin invalid), then each
     * PluginChangeListener.pluginLoaded runs: ElasticAgentMetadataLoader asks the six plugin-info requests and lets
     * any failure through, which PluginLoader turns into "invalid" and unloads the plugin; PluginSettingsMetadataLoader
     * asks go.plugin-settings.get-configuration, and get-view only if the configuration parsed, and catches and logs
     * every failure there ("This error may be safe to ignore").
     */
    private static JsonObject load(GoPlugin plugin, GocdAccessor accessor, String migrateBody) {
        JsonObject result = op("load");
        JsonArray steps = new JsonArray();
        result.add("steps", steps);
        int from = accessor.calls.size();
        String verdict = null;
        List<String> sequence = new ArrayList<>();
        sequence.add(GocdLoaderRules.MIGRATE_CONFIG);
        sequence.addAll(GocdLoaderRules.PLUGIN_INFO_REQUESTS);
        for (String name : sequence) {
            JsonObject step = ask(plugin, name, name.equals(GocdLoaderRules.MIGRATE_CONFIG) ? migrateBody : null);
            steps.add(step);
            if (step.has("problem")) {
                verdict = name.equals(GocdLoaderRules.MIGRATE_CONFIG)
                        ? "GoCD would mark this plugin invalid and unload it: " + name + " " + step.get("problem").getAsString()
                        : "GoCD would unload this plugin: " + name + " " + step.get("problem").getAsString();
                break;
            }
        }
        if (verdict == null) {
            JsonObject configuration = ask(plugin, GocdLoaderRules.SETTINGS_CONFIGURATION, null);
            steps.add(configuration);
            String settings;
            if (configuration.has("problem")) {
                settings = "declined (GoCD logs it as safe to ignore): " + configuration.get("problem").getAsString();
            } else {
                JsonObject view = ask(plugin, GocdLoaderRules.SETTINGS_VIEW, null);
                steps.add(view);
                settings = view.has("problem") ? "declined (GoCD logs it as safe to ignore): " + view.get("problem").getAsString() : "stored";
            }
            result.addProperty("pluginSettings", settings);
        }
        result.addProperty("loaded", verdict == null);
        result.addProperty("verdict", verdict == null ? "GoCD keeps the plugin loaded" : verdict);
        result.add("accessorCalls", accessor.callsSince(from));
        return result;
    }

    private static JsonObject ask(GoPlugin plugin, String name, String body) {
        JsonObject step = new JsonObject();
        step.addProperty("request", name);
        long t = System.nanoTime();
        try {
            GoPluginApiResponse r = plugin.handle(request(name, body));
            step.addProperty("ms", (System.nanoTime() - t) / 1_000_000);
            if (r == null) {
                step.addProperty("problem", "sent a null response");
                return step;
            }
            step.addProperty("status", r.responseCode());
            step.addProperty("body", r.responseBody());
            String problem = GocdLoaderRules.problem(name, r.responseCode(), r.responseBody());
            if (problem != null) step.addProperty("problem", problem);
        } catch (Exception e) {
            // DefaultPluginManager.submitTo wraps whatever handle throws in a RuntimeException.
            step.addProperty("ms", (System.nanoTime() - t) / 1_000_000);
            step.addProperty("problem", "threw " + e);
        }
        return step;
    }

    private static JsonObject parallel(GoPlugin plugin, int n, String name, String body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        List<Callable<GoPluginApiResponse>> jobs = new ArrayList<>();
        for (int i = 0; i < n; i++) jobs.add(() -> plugin.handle(request(name, body)));
        JsonArray results = new JsonArray();
        for (Future<GoPluginApiResponse> f : pool.invokeAll(jobs, 60, TimeUnit.SECONDS)) {
            GoPluginApiResponse r = f.get();
            JsonObject o = new JsonObject();
            o.addProperty("status", r.responseCode());
            o.addProperty("body", r.responseBody());
            results.add(o);
        }
        pool.shutdownNow();
        JsonObject o = op("parallel");
        o.addProperty("request", name);
        o.add("results", results);
        return o;
    }

    /** N sequential calls (after N/10 warm-up calls); each call's wall time, summarised as percentiles in µs. */
    private static JsonObject bench(GoPlugin plugin, int n, String name, String body) throws Exception {
        int warmUp = Math.max(1, n / 10);
        for (int i = 0; i < warmUp; i++) plugin.handle(request(name, numbered(body, 1_000_000 + i)));
        long[] micros = new long[n];
        int failures = 0;
        for (int i = 0; i < n; i++) {
            String text = numbered(body, 1 + i);
            long t = System.nanoTime();
            GoPluginApiResponse r = plugin.handle(request(name, text));
            micros[i] = (System.nanoTime() - t) / 1_000;
            if (r.responseCode() != 200) failures++;
        }
        Arrays.sort(micros);
        JsonObject o = op("bench");
        o.addProperty("request", name);
        o.addProperty("n", n);
        o.addProperty("non200", failures);
        o.addProperty("p50", micros[(int) Math.floor(0.50 * (n - 1))]);
        o.addProperty("p90", micros[(int) Math.floor(0.90 * (n - 1))]);
        o.addProperty("p99", micros[(int) Math.floor(0.99 * (n - 1))]);
        o.addProperty("max", micros[n - 1]);
        return o;
    }

    /** Where the bundle finds Gson (its own lib/ for the forwarder), or null when it has none. */
    private static String gsonLocation(PluginBundle bundle) {
        try {
            return String.valueOf(bundle.loader.loadClass("com.google.gson.Gson").getProtectionDomain().getCodeSource().getLocation());
        } catch (ClassNotFoundException e) {
            return null;
        }
    }

    private static String numbered(String body, int seq) {
        return body == null ? null : body.replace("\"__SEQ__\"", Integer.toString(seq));
    }

    private static DefaultGoPluginApiRequest request(String name, String body) {
        DefaultGoPluginApiRequest r = new DefaultGoPluginApiRequest("elastic-agent", "5.0", name);
        r.setRequestBody(body);
        return r;
    }

    private static String decode(String arg) {
        return arg.equals("-") ? null : new String(Base64.getDecoder().decode(arg), StandardCharsets.UTF_8);
    }

    private static JsonObject op(String name) {
        JsonObject o = new JsonObject();
        o.addProperty("op", name);
        return o;
    }

    private static synchronized void print(JsonObject json) {
        System.out.println(GSON.toJson(json));
        System.out.flush();
    }
}
