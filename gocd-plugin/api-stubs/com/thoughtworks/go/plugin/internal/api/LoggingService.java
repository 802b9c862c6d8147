// Compile-only declaration of a GoCD plugin API type, written from the public go-plugin-api signatures.
// GoCD provides the real class at runtime; this copy is never packaged into the plugin jar.
// Only the overloads the Logger declaration below forwards to are declared.
package com.thoughtworks.go.plugin.internal.api;

public interface LoggingService {
    void debug(String pluginId, String loggerName, String message);

    void debug(String pluginId, String loggerName, String message, Throwable throwable);

    void info(String pluginId, String loggerName, String message);

    void info(String pluginId, String loggerName, String message, Throwable throwable);

    void warn(String pluginId, String loggerName, String message);

    void warn(String pluginId, String loggerName, String message, Throwable throwable);

    void error(String pluginId, String loggerName, String message);

    void error(String pluginId, String loggerName, String message, Throwable throwable);
}
