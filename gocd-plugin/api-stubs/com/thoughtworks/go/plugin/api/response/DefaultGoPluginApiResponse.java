// Compile-only declaration of a GoCD plugin API type, written from the public go-plugin-api signatures.
// GoCD provides the real class at runtime; this copy is never packaged into the plugin jar.
package com.thoughtworks.go.plugin.api.response;

import java.util.HashMap;
import java.util.Map;

public class DefaultGoPluginApiResponse extends GoPluginApiResponse {
    public static final int SUCCESS_RESPONSE_CODE = 200;
    public static final int VALIDATION_FAILED = 412;
    public static final int BAD_REQUEST = 400;
    public static final int INTERNAL_ERROR = 500;

    private final int responseCode;
    private final Map<String, String> responseHeaders;
    private String responseBody;

    public DefaultGoPluginApiResponse(int responseCode) {
        this(responseCode, null, new HashMap<>());
    }

    public DefaultGoPluginApiResponse(int responseCode, String responseBody) {
        this(responseCode, responseBody, new HashMap<>());
    }

    public DefaultGoPluginApiResponse(int responseCode, String responseBody, Map<String, String> responseHeaders) {
        this.responseCode = responseCode;
        this.responseBody = responseBody;
        this.responseHeaders = responseHeaders;
    }

    public static DefaultGoPluginApiResponse incompleteRequest(String responseBody) {
        return new DefaultGoPluginApiResponse(VALIDATION_FAILED, responseBody);
    }

    public static DefaultGoPluginApiResponse badRequest(String responseBody) {
        return new DefaultGoPluginApiResponse(BAD_REQUEST, responseBody);
    }

    public static DefaultGoPluginApiResponse error(String responseBody) {
        return new DefaultGoPluginApiResponse(INTERNAL_ERROR, responseBody);
    }

    public static DefaultGoPluginApiResponse success(String responseBody) {
        return new DefaultGoPluginApiResponse(SUCCESS_RESPONSE_CODE, responseBody);
    }

    public void addResponseHeader(String name, String value) {
        responseHeaders.put(name, value);
    }

    public void setResponseBody(String responseBody) {
        this.responseBody = responseBody;
    }

    @Override
    public int responseCode() {
        return responseCode;
    }

    @Override
    public Map<String, String> responseHeaders() {
        return responseHeaders;
    }

    @Override
    public String responseBody() {
        return responseBody;
    }
}
