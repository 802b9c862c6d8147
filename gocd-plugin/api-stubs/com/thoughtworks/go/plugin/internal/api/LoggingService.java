// Compile-only declaration of a GoCD plugin API type, written from the public go-plugin-api-internal signatures
// (gocd/gocd: plugin-infra/go-plugin-api-internal/.../internal/api/LoggingService.java): every abstract method, so a
// test double that compiles here also compiles against GoCD's real interface.
// GoCD provides the real class at runtime; this copy is never packaged into the plugin jar.
package com.thoughtworks.go.plugin.internal.api;

public interface LoggingService {
    void debug(String pluginId, String loggerName, String message);

    void debug(String pluginId, String loggerName, String message, Throwable throwable);

    void debug(String pluginId, String loggerName, String message, Object arg);

    void debug(String pluginId, String loggerName, String message, Object arg1, Object arg2);

    void debug(String pluginId, String loggerName, String message, Object... arguments);

    void info(String pluginId, String loggerName, String message);

    void info(String pluginId, String loggerName, String message, Throwable throwable);

    void info(String pluginId, String loggerName, String message, Object arg);

    void info(String pluginId, String loggerName, String message, Object arg1, Object arg2);

    void info(String pluginId, String loggerName, String message, Object... arguments);

    void warn(String pluginId, String loggerName, String message);

    void warn(String pluginId, String loggerName, String message, Throwable throwable);

    void warn(String pluginId, String loggerName, String message, Object arg);

    void warn(String pluginId, String loggerName, String message, Object arg1, Object arg2);

    void warn(String pluginId, String loggerName, String message, Object... arguments);

    void error(String pluginId, String loggerName, String message);

    void error(String pluginId, String loggerName, String message, Throwable throwable);

    void error(String pluginId, String loggerName, String message, Object arg);

    void error(String pluginId, String loggerName, String message, Object arg1, Object arg2);

    void error(String pluginId, String loggerName, String message, Object... arguments);
}
