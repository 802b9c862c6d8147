package gocd.agent.scaler.harness;

import com.thoughtworks.go.plugin.internal.api.LoggingService;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * GoCD's plugin logging service (DefaultPluginLoggingService writes to plugin-&lt;id&gt;.log through SLF4J): every
 * line is kept for the test to inspect and echoed to stderr. Arguments fill {@code {}} placeholders as SLF4J does.
 */
final class RecordingLoggingService implements LoggingService {
    private final List<String> lines = Collections.synchronizedList(new ArrayList<>());

    List<String> lines() {
        synchronized (lines) {
            return new ArrayList<>(lines);
        }
    }

    private void log(String level, String logger, String message, Throwable t, Object... args) {
        StringBuilder text = new StringBuilder();
        int arg = 0;
        for (int i = 0; i < message.length(); i++) {
            if (arg < args.length && message.startsWith("{}", i)) {
                text.append(args[arg++]);
                i++;
            } else {
                text.append(message.charAt(i));
            }
        }
        String line = level + " " + logger + " " + text + (t == null ? "" : " " + t);
        lines.add(line);
        System.err.println("[plugin] " + line);
    }

    @Override public void debug(String p, String l, String m) { log("DEBUG", l, m, null); }
    @Override public void debug(String p, String l, String m, Throwable t) { log("DEBUG", l, m, t); }
    @Override public void debug(String p, String l, String m, Object a) { log("DEBUG", l, m, null, a); }
    @Override public void debug(String p, String l, String m, Object a, Object b) { log("DEBUG", l, m, null, a, b); }
    @Override public void debug(String p, String l, String m, Object... a) { log("DEBUG", l, m, null, a); }
    @Override public void info(String p, String l, String m) { log("INFO", l, m, null); }
    @Override public void info(String p, String l, String m, Throwable t) { log("INFO", l, m, t); }
    @Override public void info(String p, String l, String m, Object a) { log("INFO", l, m, null, a); }
    @Override public void info(String p, String l, String m, Object a, Object b) { log("INFO", l, m, null, a, b); }
    @Override public void info(String p, String l, String m, Object... a) { log("INFO", l, m, null, a); }
    @Override public void warn(String p, String l, String m) { log("WARN", l, m, null); }
    @Override public void warn(String p, String l, String m, Throwable t) { log("WARN", l, m, t); }
    @Override public void warn(String p, String l, String m, Object a) { log("WARN", l, m, null, a); }
    @Override public void warn(String p, String l, String m, Object a, Object b) { log("WARN", l, m, null, a, b); }
    @Override public void warn(String p, String l, String m, Object... a) { log("WARN", l, m, null, a); }
    @Override public void error(String p, String l, String m) { log("ERROR", l, m, null); }
    @Override public void error(String p, String l, String m, Throwable t) { log("ERROR", l, m, t); }
    @Override public void error(String p, String l, String m, Object a) { log("ERROR", l, m, null, a); }
    @Override public void error(String p, String l, String m, Object a, Object b) { log("ERROR", l, m, null, a, b); }
    @Override public void error(String p, String l, String m, Object... a) { log("ERROR", l, m, null, a); }
}
