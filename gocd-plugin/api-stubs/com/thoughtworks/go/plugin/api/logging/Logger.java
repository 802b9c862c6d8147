// Compile-only declaration of a GoCD plugin API type, written from the public go-plugin-api signatures.
// GoCD provides the real class at runtime; this copy is never packaged into the plugin jar.
// Only the (String) and (String, Throwable) overloads, present in every GoCD version with elastic-agent v5.
// Without an initialized LoggingService (plain unit tests) lines go to stderr, as GoCD's own class does.
package com.thoughtworks.go.plugin.api.logging;

import com.thoughtworks.go.plugin.internal.api.LoggingService;

public class Logger {
    private static volatile LoggingService loggingService;

    private final String pluginId;
    private final String loggerName;

    private Logger(String loggerName, String pluginId) {
        this.loggerName = loggerName;
        this.pluginId = pluginId;
    }

    public static Logger getLoggerFor(Class<?> loggerClass) {
        return new Logger(loggerClass.getName(), "UNKNOWN");
    }

    public static Logger getLoggerFor(Class<?> loggerClass, String pluginId) {
        return new Logger(loggerClass.getName(), pluginId);
    }

    public static Logger getLoggerFor(String name, String pluginId) {
        return new Logger(name, pluginId);
    }

    public static void initialize(LoggingService service) {
        loggingService = service;
    }

    public void debug(String message) {
        LoggingService s = loggingService;
        if (s == null) System.err.println("DEBUG " + message);
        else s.debug(pluginId, loggerName, message);
    }

    public void debug(String message, Throwable throwable) {
        LoggingService s = loggingService;
        if (s == null) System.err.println("DEBUG " + message + " " + throwable);
        else s.debug(pluginId, loggerName, message, throwable);
    }

    public void info(String message) {
        LoggingService s = loggingService;
        if (s == null) System.err.println("INFO " + message);
        else s.info(pluginId, loggerName, message);
    }

    public void info(String message, Throwable throwable) {
        LoggingService s = loggingService;
        if (s == null) System.err.println("INFO " + message + " " + throwable);
        else s.info(pluginId, loggerName, message, throwable);
    }

    public void warn(String message) {
        LoggingService s = loggingService;
        if (s == null) System.err.println("WARN " + message);
        else s.warn(pluginId, loggerName, message);
    }

    public void warn(String message, Throwable throwable) {
        LoggingService s = loggingService;
        if (s == null) System.err.println("WARN " + message + " " + throwable);
        else s.warn(pluginId, loggerName, message, throwable);
    }

    public void error(String message) {
        LoggingService s = loggingService;
        if (s == null) System.err.println("ERROR " + message);
        else s.error(pluginId, loggerName, message);
    }

    public void error(String message, Throwable throwable) {
        LoggingService s = loggingService;
        if (s == null) System.err.println("ERROR " + message + " " + throwable);
        else s.error(pluginId, loggerName, message, throwable);
    }
}
