package gocd.agent.scaler.harness;

import com.thoughtworks.go.plugin.api.GoApplicationAccessor;
import com.thoughtworks.go.plugin.api.GoPlugin;
import com.thoughtworks.go.plugin.api.GoPluginIdentifier;
import com.thoughtworks.go.plugin.api.annotation.Extension;
import com.thoughtworks.go.plugin.api.logging.Logger;
import com.thoughtworks.go.plugin.api.request.DefaultGoPluginApiRequest;
import com.thoughtworks.go.plugin.api.request.GoApiRequest;
import com.thoughtworks.go.plugin.api.response.DefaultGoApiResponse;
import com.thoughtworks.go.plugin.api.response.GoApiResponse;
import com.thoughtworks.go.plugin.api.response.GoPluginApiResponse;
import com.thoughtworks.go.plugin.internal.api.LoggingService;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.reflect.Constructor;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * Plays GoCD's plugin host for the end-to-end test: loads the built plugin jar the way GoCD does (exploded, classes
 * from the root, dependency jars from lib/, the plugin API from the host), finds the one @Extension GoPlugin,
 * hands it a recording application accessor, then runs commands from stdin and prints one JSON line per command.
 *
 * <pre>
 * list-agents STATUS BASE64_BODY       what go.processor.elastic-agents.list-agents answers from now on
 * handle NAME BASE64_BODY|-            plugin.handle(NAME, body) as GoCD calls it (extension elastic-agent, 5.0)
 * parallel N NAME BASE64_BODY|-        N concurrent handle calls from N threads
 * </pre>
 * The classpath of this harness holds the API declarations only: gson must come from the jar's lib/.
 */
public final class GocdPluginHost {
    private static final List<String> LOG_LINES = Collections.synchronizedList(new ArrayList<>());

    public static void main(String[] args) throws Exception {
        if (args.length != 1) throw new IllegalArgumentException("usage: GocdPluginHost <plugin.jar>");
        Logger.initialize(new RecordingLoggingService());
        Path exploded = Files.createTempDirectory("gocd-plugin-bundle");
        List<String> entries = explode(new File(args[0]), exploded);
        for (String e : entries) {
            if (e.startsWith("com/thoughtworks/")) fail("the jar carries GoCD's own class " + e);
        }
        String pluginId = pluginIdFrom(exploded.resolve("plugin.xml"));

        List<URL> urls = new ArrayList<>();
        urls.add(exploded.toUri().toURL());
        File[] libs = exploded.resolve("lib").toFile().listFiles((d, n) -> n.endsWith(".jar"));
        if (libs != null) for (File lib : libs) urls.add(lib.toURI().toURL());
        URLClassLoader bundle = new URLClassLoader(urls.toArray(new URL[0]), GocdPluginHost.class.getClassLoader());

        List<Class<?>> extensions = new ArrayList<>();
        for (String e : entries) {
            if (!e.endsWith(".class") || e.startsWith("lib/") || e.startsWith("META-INF/")) continue;
            // GoCD loads every class of the bundle; one that cannot load makes the plugin invalid.
            Class<?> c = Class.forName(e.substring(0, e.length() - 6).replace('/', '.'), false, bundle);
            if (c.getAnnotation(Extension.class) != null) extensions.add(c);
        }
        if (extensions.size() != 1) fail("expected one @Extension class, found " + extensions);
        Class<?> extension = extensions.get(0);
        if (!GoPlugin.class.isAssignableFrom(extension)) fail(extension + " does not implement the host's GoPlugin");
        if (!Modifier.isPublic(extension.getModifiers()) || Modifier.isAbstract(extension.getModifiers())) fail(extension + " is not public and concrete");
        Constructor<?> constructor = extension.getConstructor();
        GoPlugin plugin = (GoPlugin) constructor.newInstance();
        RecordingAccessor accessor = new RecordingAccessor();
        plugin.initializeGoApplicationAccessor(accessor);
        GoPluginIdentifier id = plugin.pluginIdentifier();

        print(obj("op", str("loaded"), "pluginId", str(pluginId), "extensionClass", str(extension.getName()),
                "extension", str(id.getExtension()), "versions", strList(id.getSupportedExtensionVersions()),
                "gsonFrom", str(String.valueOf(bundle.loadClass("com.google.gson.Gson").getProtectionDomain().getCodeSource().getLocation())),
                "entries", strList(entries)));

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isBlank()) continue;
            String[] w = line.trim().split(" ");
            switch (w[0]) {
                case "list-agents":
                    accessor.listAgentsStatus = Integer.parseInt(w[1]);
                    accessor.listAgentsBody = decode(w[2]);
                    print(obj("op", str("list-agents"), "status", String.valueOf(accessor.listAgentsStatus)));
                    break;
                case "handle": {
                    accessor.calls.clear();
                    long t = System.nanoTime();
                    GoPluginApiResponse r = plugin.handle(request(w[1], decode(w[2])));
                    long ms = (System.nanoTime() - t) / 1_000_000;
                    print(obj("op", str("handle"), "request", str(w[1]), "status", String.valueOf(r.responseCode()),
                            "body", str(r.responseBody()), "ms", String.valueOf(ms), "accessorCalls", accessor.callsJson()));
                    break;
                }
                case "parallel": {
                    int n = Integer.parseInt(w[1]);
                    String body = decode(w[3]);
                    ExecutorService pool = Executors.newFixedThreadPool(n);
                    List<Callable<GoPluginApiResponse>> jobs = new ArrayList<>();
                    for (int i = 0; i < n; i++) jobs.add(() -> plugin.handle(request(w[2], body)));
                    List<String> results = new ArrayList<>();
                    for (Future<GoPluginApiResponse> f : pool.invokeAll(jobs, 60, TimeUnit.SECONDS)) {
                        GoPluginApiResponse r = f.get();
                        results.add(obj("status", String.valueOf(r.responseCode()), "body", str(r.responseBody())));
                    }
                    pool.shutdownNow();
                    print(obj("op", str("parallel"), "request", str(w[2]), "results", "[" + String.join(",", results) + "]"));
                    break;
                }
                default:
                    fail("unknown command " + w[0]);
            }
        }
        print(obj("op", str("logs"), "lines", strList(LOG_LINES)));
        System.out.flush();
        System.exit(0);
    }

    private static DefaultGoPluginApiRequest request(String name, String body) {
        DefaultGoPluginApiRequest r = new DefaultGoPluginApiRequest("elastic-agent", "5.0", name);
        r.setRequestBody(body);
        return r;
    }

    private static List<String> explode(File jar, Path into) throws IOException {
        List<String> names = new ArrayList<>();
        try (JarFile j = new JarFile(jar)) {
            Enumeration<JarEntry> all = j.entries();
            while (all.hasMoreElements()) {
                JarEntry e = all.nextElement();
                names.add(e.getName());
                Path target = into.resolve(e.getName()).normalize();
                if (!target.startsWith(into)) fail("jar entry escapes the bundle: " + e.getName());
                if (e.isDirectory()) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    try (InputStream s = j.getInputStream(e)) {
                        Files.copy(s, target);
                    }
                }
            }
        }
        return names;
    }

    /** The checks GoCD's descriptor schema makes: root go-plugin, id of [\w-.]+ (≤ 200), version fixed to 1. */
    private static String pluginIdFrom(Path pluginXml) throws Exception {
        if (!Files.exists(pluginXml)) fail("plugin.xml is missing");
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document doc = f.newDocumentBuilder().parse(pluginXml.toFile());
        Element root = doc.getDocumentElement();
        if (!root.getTagName().equals("go-plugin")) fail("plugin.xml root is " + root.getTagName());
        String id = root.getAttribute("id");
        if (!id.matches("[\\w\\-.]{1,200}")) fail("invalid plugin id '" + id + "'");
        if (!root.getAttribute("version").equals("1")) fail("plugin.xml version must be 1");
        if (root.getElementsByTagName("about").getLength() != 1) fail("plugin.xml needs one <about>");
        return id;
    }

    private static String decode(String arg) {
        return arg.equals("-") ? null : new String(Base64.getDecoder().decode(arg), StandardCharsets.UTF_8);
    }

    private static void fail(String message) {
        throw new IllegalStateException(message);
    }

    private static synchronized void print(String json) {
        System.out.println(json);
        System.out.flush();
    }

    static String obj(String... kv) {
        StringBuilder b = new StringBuilder("{");
        for (int i = 0; i < kv.length; i += 2) {
            if (i > 0) b.append(',');
            b.append(str(kv[i])).append(':').append(kv[i + 1]);
        }
        return b.append('}').toString();
    }

    static String strList(List<String> values) {
        List<String> quoted = new ArrayList<>();
        synchronized (values) {
            for (String v : values) quoted.add(str(v));
        }
        return "[" + String.join(",", quoted) + "]";
    }

    static String str(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
            }
        }
        return b.append('"').toString();
    }

    /** GoCD's side of GoApplicationAccessor: list-agents answers as configured; every call is recorded. */
    static final class RecordingAccessor extends GoApplicationAccessor {
        final List<String> calls = Collections.synchronizedList(new ArrayList<>());
        volatile int listAgentsStatus = 200;
        volatile String listAgentsBody = "[]";

        @Override
        public GoApiResponse submit(GoApiRequest request) {
            GoPluginIdentifier id = request.pluginIdentifier();
            calls.add(obj("api", str(request.api()), "version", str(request.apiVersion()),
                    "extension", str(id == null ? null : id.getExtension()), "body", str(request.requestBody())));
            if (request.api().equals("go.processor.elastic-agents.list-agents")) {
                DefaultGoApiResponse r = new DefaultGoApiResponse(listAgentsStatus);
                r.setResponseBody(listAgentsBody);
                return r;
            }
            return DefaultGoApiResponse.success("");
        }

        String callsJson() {
            synchronized (calls) {
                return "[" + String.join(",", calls) + "]";
            }
        }
    }

    /** GoCD's plugin logging service: lines go to stderr and are echoed at the end for the test to inspect. */
    static final class RecordingLoggingService implements LoggingService {
        private void log(String level, String logger, String message, Throwable t) {
            String line = level + " " + logger + " " + message + (t == null ? "" : " " + t);
            LOG_LINES.add(line);
            System.err.println("[plugin] " + line);
        }

        @Override public void debug(String p, String l, String m) { log("DEBUG", l, m, null); }
        @Override public void debug(String p, String l, String m, Throwable t) { log("DEBUG", l, m, t); }
        @Override public void info(String p, String l, String m) { log("INFO", l, m, null); }
        @Override public void info(String p, String l, String m, Throwable t) { log("INFO", l, m, t); }
        @Override public void warn(String p, String l, String m) { log("WARN", l, m, null); }
        @Override public void warn(String p, String l, String m, Throwable t) { log("WARN", l, m, t); }
        @Override public void error(String p, String l, String m) { log("ERROR", l, m, null); }
        @Override public void error(String p, String l, String m, Throwable t) { log("ERROR", l, m, t); }
    }
}
