// Compile-only declaration of a GoCD plugin API type, written from the public go-plugin-api signatures.
// GoCD provides the real class at runtime; this copy is never packaged into the plugin jar.
package com.thoughtworks.go.plugin.api.response;

import java.util.HashMap;
import java.util.Map;

public class DefaultGoApiResponse extends GoApiResponse {
    public static final int SUCCESS_RESPONSE_CODE = 200;
    public static final int REDIRECT_RESPONSE_CODE = 302;
    public static final int INTERNAL_ERROR = 500;
    public static final int VALIDATION_ERROR = 412;

    private final int responseCode;
    private final Map<String, String> responseHeaders = new HashMap<>();
    private String responseBody;

    public DefaultGoApiResponse(int responseCode) {
        this.responseCode = responseCode;
    }

    public static DefaultGoApiResponse incompleteRequest(String responseBody) {
        return withBody(VALIDATION_ERROR, responseBody);
    }

    public static DefaultGoApiResponse badRequest(String responseBody) {
        return withBody(400, responseBody);
    }

    public static DefaultGoApiResponse error(String responseBody) {
        return withBody(INTERNAL_ERROR, responseBody);
    }

    public static DefaultGoApiResponse success(String responseBody) {
        return withBody(SUCCESS_RESPONSE_CODE, responseBody);
    }

    private static DefaultGoApiResponse withBody(int code, String body) {
        DefaultGoApiResponse response = new DefaultGoApiResponse(code);
        response.setResponseBody(body);
        return response;
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
