// Compile-only declaration of a GoCD plugin API type, written from the public go-plugin-api signatures.
// GoCD provides the real class at runtime; this copy is never packaged into the plugin jar.
package com.thoughtworks.go.plugin.api.request;

import java.util.Map;

public abstract class GoPluginApiRequest {
    public abstract String extension();

    public abstract String extensionVersion();

    public abstract String requestName();

    public abstract Map<String, String> requestParameters();

    public abstract Map<String, String> requestHeaders();

    public abstract String requestBody();
}
