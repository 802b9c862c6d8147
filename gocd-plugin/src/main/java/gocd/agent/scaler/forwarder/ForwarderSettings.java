package gocd.agent.scaler.forwarder;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

/**
 * Where the service is and how to authenticate: {@code GOCD_AGENT_SCALER_URL} / {@code GOCD_AGENT_SCALER_TOKEN} from
 * the GoCD server's environment, or the system properties {@code gocd.agent.scaler.url} / {@code
 * gocd.agent.scaler.token}, which win when both are set (a -D flag is the more specific setting).
 */
final class ForwarderSettings {
    static final String URL_ENV = "GOCD_AGENT_SCALER_URL";
    static final String TOKEN_ENV = "GOCD_AGENT_SCALER_TOKEN";
    static final String URL_PROPERTY = "gocd.agent.scaler.url";
    static final String TOKEN_PROPERTY = "gocd.agent.scaler.token";
    /** Overrides of the timeouts in milliseconds (tests, or a service known to be slow); defaults 5 s and 30 s. */
    static final String CONNECT_TIMEOUT_PROPERTY = "gocd.agent.scaler.connect.timeout.ms";
    static final String REQUEST_TIMEOUT_PROPERTY = "gocd.agent.scaler.request.timeout.ms";

    private final URI baseUrl;
    private final String token;
    private final String problem;

    private ForwarderSettings(URI baseUrl, String token, String problem) {
        this.baseUrl = baseUrl;
        this.token = token;
        this.problem = problem;
    }

    /** Settings of this JVM (GoCD's server process). */
    static ForwarderSettings fromEnvironment() {
        return from(System.getenv(), System.getProperties());
    }

    /** Reads and checks both settings; every problem is reported together in {@link #problem()}. */
    static ForwarderSettings from(Map<String, String> env, Properties properties) {
        String url = pick(properties.getProperty(URL_PROPERTY), env.get(URL_ENV));
        String token = pick(properties.getProperty(TOKEN_PROPERTY), env.get(TOKEN_ENV));
        StringBuilder problems = new StringBuilder();
        URI base = null;
        if (url == null) {
            problems.append(URL_ENV + " (or -D" + URL_PROPERTY + ") is not set");
        } else {
            try {
                base = parseBaseUrl(url);
            } catch (IllegalArgumentException e) {
                problems.append(URL_ENV + " is not a usable URL: ").append(e.getMessage());
            }
        }
        if (token == null) {
            if (problems.length() > 0) problems.append("; ");
            problems.append(TOKEN_ENV + " (or -D" + TOKEN_PROPERTY + ") is not set");
        } else if (token.chars().anyMatch(c -> c < 0x21 || c == 0x7f)) {
            if (problems.length() > 0) problems.append("; ");
            problems.append(TOKEN_ENV + " contains spaces or control characters");
        }
        return problems.length() == 0 ? new ForwarderSettings(base, token, null) : new ForwarderSettings(null, null, problems.toString());
    }

    /** Settings given directly (tests, the harness). */
    static ForwarderSettings of(String url, String token) {
        return from(Map.of(URL_ENV, url, TOKEN_ENV, token), new Properties());
    }

    /**
     * A timeout from a system property in milliseconds, else the default. A value that is not a positive whole number
     * falls back to the default rather than to "no timeout", which would let a GoCD thread wait without end.
     */
    static Duration timeout(Properties properties, String name, Duration fallback) {
        String text = properties.getProperty(name);
        if (text == null || text.isBlank()) return fallback;
        try {
            long ms = Long.parseLong(text.trim());
            return ms > 0 ? Duration.ofMillis(ms) : fallback;
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static String pick(String property, String env) {
        if (property != null && !property.isBlank()) return property.trim();
        if (env != null && !env.isBlank()) return env.trim();
        return null;
    }

    private static URI parseBaseUrl(String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
        if (!scheme.equals("http") && !scheme.equals("https")) throw new IllegalArgumentException("the scheme must be http or https");
        if (uri.getHost() == null) throw new IllegalArgumentException("no host");
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) throw new IllegalArgumentException("no query or fragment allowed");
        if (uri.getRawUserInfo() != null) throw new IllegalArgumentException("credentials belong in " + TOKEN_ENV + ", not the URL");
        String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceAll("/+$", "");
        return URI.create(scheme + "://" + uri.getRawAuthority() + path);
    }

    boolean usable() {
        return problem == null;
    }

    /** What is wrong, naming the variables; never contains the token. */
    String problem() {
        return problem;
    }

    /** The URL of one request name: {@code {url}/gocd/requests/{requestName}}. */
    URI requestUri(String requestName) {
        return URI.create(baseUrl + "/gocd/requests/" + pathSegment(requestName));
    }

    String token() {
        return token;
    }

    /** scheme://host[:port] only, for log lines. */
    String target() {
        return baseUrl == null ? "(unset)" : baseUrl.getScheme() + "://" + baseUrl.getRawAuthority();
    }

    /** Percent-encodes everything but RFC 3986 unreserved characters (GoCD's names never need it, but never trust). */
    private static String pathSegment(String name) {
        StringBuilder out = new StringBuilder();
        for (byte b : name.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
                out.append(c);
            } else {
                out.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return out.toString();
    }
}
