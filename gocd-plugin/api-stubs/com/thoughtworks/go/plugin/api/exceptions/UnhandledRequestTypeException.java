// Compile-only declaration of a GoCD plugin API type, written from the public go-plugin-api signatures.
// GoCD provides the real class at runtime; this copy is never packaged into the plugin jar.
package com.thoughtworks.go.plugin.api.exceptions;

public class UnhandledRequestTypeException extends Exception {
    private static final long serialVersionUID = 1L;

    public UnhandledRequestTypeException(String requestType) {
        super("This is an invalid request type :" + requestType);
    }
}
