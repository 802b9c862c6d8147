package gocd.agent.scaler.forwarder;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.thoughtworks.go.plugin.api.GoApplicationAccessor;
import com.thoughtworks.go.plugin.api.logging.Logger;
import com.thoughtworks.go.plugin.api.request.DefaultGoPluginApiRequest;
import com.thoughtworks.go.plugin.api.request.GoApiRequest;
import com.thoughtworks.go.plugin.api.response.DefaultGoApiResponse;
import com.thoughtworks.go.plugin.api.response.GoApiResponse;
import com.thoughtworks.go.plugin.internal.api.LoggingService;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/** Loopback fakes for the service and GoCD's side of the plugin API. */
final class TestSupport {
    static final String TOKEN = "t0ken-never-logged-7f3a9c";

    private TestSupport() {}

    static DefaultGoPluginApiRequest request(String name, String body) {
        DefaultGoPluginApiRequest r = new DefaultGoPluginApiRequest("elastic-agent", "5.0", name);
        r.setRequestBody(body);
        return r;
    }

    static ForwarderPlugin plugin(String url) {
        return plugin(url, Duration.ofSeconds(2), Duration.ofSeconds(5));
    }

    static ForwarderPlugin plugin(String url, Duration connect, Duration deadline) {
        return new ForwarderPlugin(ForwarderSettings.of(url, TOKEN), connect, deadline);
    }

    /** GoCD's clock stopped at 09:05:03.042 local time, for console line prefixes. */
    static final java.time.Clock CLOCK = java.time.Clock.fixed(
            java.time.LocalDate.of(2026, 12, 7).atTime(9, 5, 3, 42_000_000).atZone(java.time.ZoneId.systemDefault()).toInstant(),
            java.time.ZoneId.systemDefault());

    static ForwarderPlugin plugin(String url, java.time.Clock clock) {
        return new ForwarderPlugin(ForwarderSettings.of(url, TOKEN), Duration.ofSeconds(2), Duration.ofSeconds(5), LoaderAnswers.builtIn(), clock);
    }

    /** A port nothing listens on (bound, then released). */
    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** One request as the fake service saw it. */
    static final class Seen {
        final String method;
        final String path;
        final String protocol;
        final String authorization;
        final String contentType;
        final String upgrade;
        final String body;

        Seen(HttpExchange x, String body) {
            this.method = x.getRequestMethod();
            this.path = x.getRequestURI().getRawPath();
            this.protocol = x.getProtocol();
            this.authorization = x.getRequestHeaders().getFirst("Authorization");
            this.contentType = x.getRequestHeaders().getFirst("Content-Type");
            this.upgrade = x.getRequestHeaders().getFirst("Upgrade");
            this.body = body;
        }
    }

    /** What the fake service answers. */
    static final class Answer {
        final int status;
        final String body;

        Answer(int status, String body) {
            this.status = status;
            this.body = body;
        }
    }

    /** The service, faked on 127.0.0.1 with the JDK's HTTP server; records every request. */
    static final class FakeScaler implements AutoCloseable {
        final List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger maxInFlight = new AtomicInteger();
        volatile Function<Seen, Answer> answer = s -> new Answer(200, "{}");
        private final HttpServer server;
        private final ExecutorService pool = Executors.newFixedThreadPool(32);

        FakeScaler() throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
            server.setExecutor(pool);
            server.createContext("/", x -> {
                int now = inFlight.incrementAndGet();
                maxInFlight.accumulateAndGet(now, Math::max);
                try {
                    Seen s = new Seen(x, new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
                    seen.add(s);
                    Answer a = answer.apply(s);
                    byte[] bytes = a.body.getBytes(StandardCharsets.UTF_8);
                    x.getResponseHeaders().add("Content-Type", "application/json");
                    x.sendResponseHeaders(a.status, bytes.length == 0 ? -1 : bytes.length);
                    try (OutputStream out = x.getResponseBody()) {
                        out.write(bytes);
                    }
                } finally {
                    inFlight.decrementAndGet();
                    x.close();
                }
            });
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        HttpServer server() {
            return server;
        }

        @Override
        public void close() {
            server.stop(0);
            pool.shutdownNow();
        }
    }

    /** GoCD's application accessor: list-agents answers as configured; every call is recorded in order. */
    static final class RecordingAccessor extends GoApplicationAccessor {
        final List<GoApiRequest> calls = Collections.synchronizedList(new ArrayList<>());
        volatile int listAgentsStatus = 200;
        volatile String listAgentsBody = "[]";
        volatile int actionStatus = 200;
        volatile boolean throwOnList = false;
        /** APIs whose calls answer this status (or throw, for -1). */
        final java.util.Map<String, Integer> failing = new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public GoApiResponse submit(GoApiRequest request) {
            calls.add(request);
            Integer failure = failing.get(request.api());
            if (failure != null) {
                if (failure < 0) throw new IllegalStateException("GoCD failed for " + request.api());
                DefaultGoApiResponse r = new DefaultGoApiResponse(failure);
                r.setResponseBody("{\"message\":\"Error: failed\"}");
                return r;
            }
            if (request.api().equals(GocdAccessorCalls.LIST_AGENTS)) {
                if (throwOnList) throw new IllegalStateException("GoCD could not list agents");
                DefaultGoApiResponse r = new DefaultGoApiResponse(listAgentsStatus);
                r.setResponseBody(listAgentsBody);
                return r;
            }
            DefaultGoApiResponse r = new DefaultGoApiResponse(actionStatus);
            r.setResponseBody("");
            return r;
        }

        List<GoApiRequest> callsTo(String api) {
            List<GoApiRequest> out = new ArrayList<>();
            synchronized (calls) {
                for (GoApiRequest r : calls) if (r.api().equals(api)) out.add(r);
            }
            return out;
        }

        List<String> apis() {
            List<String> out = new ArrayList<>();
            synchronized (calls) {
                for (GoApiRequest r : calls) out.add(r.api());
            }
            return out;
        }
    }

    /** GoCD's plugin logging service, capturing every line the plugin writes. */
    static final class LogCapture implements LoggingService {
        final List<String> lines = Collections.synchronizedList(new ArrayList<>());

        static LogCapture install() {
            LogCapture c = new LogCapture();
            Logger.initialize(c);
            return c;
        }

        String all() {
            synchronized (lines) {
                return String.join("\n", lines);
            }
        }

        private void add(String level, String message, Throwable t) {
            lines.add(level + " " + message + (t == null ? "" : " " + t));
        }

        @Override public void debug(String p, String l, String m) { add("DEBUG", m, null); }
        @Override public void debug(String p, String l, String m, Throwable t) { add("DEBUG", m, t); }
        @Override public void debug(String p, String l, String m, Object a) { add("DEBUG", m + " " + a, null); }
        @Override public void debug(String p, String l, String m, Object a, Object b) { add("DEBUG", m + " " + a + " " + b, null); }
        @Override public void debug(String p, String l, String m, Object... a) { add("DEBUG", m + " " + java.util.Arrays.toString(a), null); }
        @Override public void info(String p, String l, String m) { add("INFO", m, null); }
        @Override public void info(String p, String l, String m, Throwable t) { add("INFO", m, t); }
        @Override public void info(String p, String l, String m, Object a) { add("INFO", m + " " + a, null); }
        @Override public void info(String p, String l, String m, Object a, Object b) { add("INFO", m + " " + a + " " + b, null); }
        @Override public void info(String p, String l, String m, Object... a) { add("INFO", m + " " + java.util.Arrays.toString(a), null); }
        @Override public void warn(String p, String l, String m) { add("WARN", m, null); }
        @Override public void warn(String p, String l, String m, Throwable t) { add("WARN", m, t); }
        @Override public void warn(String p, String l, String m, Object a) { add("WARN", m + " " + a, null); }
        @Override public void warn(String p, String l, String m, Object a, Object b) { add("WARN", m + " " + a + " " + b, null); }
        @Override public void warn(String p, String l, String m, Object... a) { add("WARN", m + " " + java.util.Arrays.toString(a), null); }
        @Override public void error(String p, String l, String m) { add("ERROR", m, null); }
        @Override public void error(String p, String l, String m, Throwable t) { add("ERROR", m, t); }
        @Override public void error(String p, String l, String m, Object a) { add("ERROR", m + " " + a, null); }
        @Override public void error(String p, String l, String m, Object a, Object b) { add("ERROR", m + " " + a + " " + b, null); }
        @Override public void error(String p, String l, String m, Object... a) { add("ERROR", m + " " + java.util.Arrays.toString(a), null); }
    }
}
