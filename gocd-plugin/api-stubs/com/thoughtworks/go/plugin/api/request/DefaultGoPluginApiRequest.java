// Compile-only declaration of a GoCD plugin API type, written from the public go-plugin-api signatures.
// As GoCD's class does, requestParameters() and requestHeaders() return unmodifiable views, and setRequestParams /
// setRequestHeaders replace the maps (a null leaves them as they are).
// GoCD provides the real class at runtime; this copy is never packaged into the plugin jar.
package com.thoughtworks.go.plugin.api.request;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

public class DefaultGoPluginApiRequest extends GoPluginApiRequest {
    private final String extension;
    private final String extensionVersion;
    private final String requestName;
    private Map<String, String> requestParameters = new HashMap<>();
    private Map<String, String> requestHeaders = new HashMap<>();
    private String requestBody;

    public DefaultGoPluginApiRequest(String extension, String extensionVersion, String requestName) {
        this.extension = extension;
        this.extensionVersion = extensionVersion;
        this.requestName = requestName;
    }

    public void setRequestBody(String requestBody) {
        this.requestBody = requestBody;
    }

    public void addRequestParameter(String name, String value) {
        requestParameters.put(name, value);
    }

    public void addRequestHeader(String name, String value) {
        requestHeaders.put(name, value);
    }

    @Override
    public String extension() {
        return extension;
    }

    @Override
    public String extensionVersion() {
        return extensionVersion;
    }

    @Override
    public String requestName() {
        return requestName;
    }

    @Override
    public Map<String, String> requestParameters() {
        return Collections.unmodifiableMap(requestParameters);
    }

    @Override
    public Map<String, String> requestHeaders() {
        return Collections.unmodifiableMap(requestHeaders);
    }

    @Override
    public String requestBody() {
        return requestBody;
    }

    public void setRequestParams(Map<String, String> params) {
        if (params != null) requestParameters = params;
    }

    public void setRequestHeaders(Map<String, String> headers) {
        if (headers != null) requestHeaders = headers;
    }
}
