// Compile-only declaration of a GoCD plugin API type, written from the public go-plugin-api signatures
// (gocd/gocd: plugin-infra/go-plugin-api/.../api/logging/Logger.java): every public overload, each handing its
// arguments to the LoggingService GoCD installed, as the real class does. Without one (plain unit tests) a line goes
// to System.out, as the real class's fallback does.
// GoCD provides the real class at runtime; this copy is never packaged into the plugin jar.
package com.thoughtworks.go.plugin.api.logging;

import com.thoughtworks.go.plugin.internal.api.LoggingService;

public class Logger {
    private static final String DEFAULT_PLUGIN_ID = "UNKNOWN";
    private static volatile LoggingService loggingService;

    private final String pluginId;
    private final String loggerName;

    private Logger(String loggerName, String pluginId) {
        this.loggerName = loggerName;
        this.pluginId = pluginId;
    }

    /** GoCD names the plugin from the class's bundle; outside GoCD there is none. */
    public static Logger getLoggerFor(Class<?> loggerClass) {
        return getLoggerFor(loggerClass.getName(), DEFAULT_PLUGIN_ID);
    }

    public static Logger getLoggerFor(Class<?> loggerClass, String pluginId) {
        return getLoggerFor(loggerClass.getName(), pluginId);
    }

    public static Logger getLoggerFor(String name, String pluginId) {
        return new Logger(name, pluginId);
    }

    public static void initialize(LoggingService service) {
        loggingService = service;
    }

    private static void fallback(String message) {
        System.out.println(message);
    }

    public void debug(String message) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.debug(pluginId, loggerName, message);
    }

    public void debug(String message, Throwable throwable) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.debug(pluginId, loggerName, message, throwable);
    }

    public void debug(String message, Object arg) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.debug(pluginId, loggerName, message, arg);
    }

    public void debug(String message, Object arg1, Object arg2) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.debug(pluginId, loggerName, message, arg1, arg2);
    }

    public void debug(String message, Object... arguments) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.debug(pluginId, loggerName, message, arguments);
    }

    public void info(String message) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.info(pluginId, loggerName, message);
    }

    public void info(String message, Throwable throwable) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.info(pluginId, loggerName, message, throwable);
    }

    public void info(String message, Object arg) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.info(pluginId, loggerName, message, arg);
    }

    public void info(String message, Object arg1, Object arg2) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.info(pluginId, loggerName, message, arg1, arg2);
    }

    public void info(String message, Object... arguments) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.info(pluginId, loggerName, message, arguments);
    }

    public void warn(String message) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.warn(pluginId, loggerName, message);
    }

    public void warn(String message, Throwable throwable) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.warn(pluginId, loggerName, message, throwable);
    }

    public void warn(String message, Object arg) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.warn(pluginId, loggerName, message, arg);
    }

    public void warn(String message, Object arg1, Object arg2) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.warn(pluginId, loggerName, message, arg1, arg2);
    }

    public void warn(String message, Object... arguments) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.warn(pluginId, loggerName, message, arguments);
    }

    public void error(String message) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.error(pluginId, loggerName, message);
    }

    public void error(String message, Throwable throwable) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.error(pluginId, loggerName, message, throwable);
    }

    public void error(String message, Object arg) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.error(pluginId, loggerName, message, arg);
    }

    public void error(String message, Object arg1, Object arg2) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.error(pluginId, loggerName, message, arg1, arg2);
    }

    public void error(String message, Object... arguments) {
        LoggingService s = loggingService;
        if (s == null) fallback(message);
        else s.error(pluginId, loggerName, message, arguments);
    }
}
