// Compile-only declaration of a GoCD plugin API type, written from the public go-plugin-api signatures.
// GoCD provides the real class at runtime; this copy is never packaged into the plugin jar.
package com.thoughtworks.go.plugin.api;

import java.util.List;

public class GoPluginIdentifier {
    private final String extension;
    private final List<String> supportedExtensionVersions;

    public GoPluginIdentifier(String extension, List<String> supportedExtensionVersions) {
        this.extension = extension;
        this.supportedExtensionVersions = supportedExtensionVersions;
    }

    public String getExtension() {
        return extension;
    }

    public List<String> getSupportedExtensionVersions() {
        return supportedExtensionVersions;
    }
}
