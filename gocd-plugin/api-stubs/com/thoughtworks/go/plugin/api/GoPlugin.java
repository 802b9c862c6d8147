// Compile-only declaration of a GoCD plugin API type, written from the public go-plugin-api signatures.
// GoCD provides the real class at runtime; this copy is never packaged into the plugin jar.
package com.thoughtworks.go.plugin.api;

import com.thoughtworks.go.plugin.api.exceptions.UnhandledRequestTypeException;
import com.thoughtworks.go.plugin.api.request.GoPluginApiRequest;
import com.thoughtworks.go.plugin.api.response.GoPluginApiResponse;

@GoPluginApiMarker
public interface GoPlugin {
    void initializeGoApplicationAccessor(GoApplicationAccessor goApplicationAccessor);

    GoPluginApiResponse handle(GoPluginApiRequest requestMessage) throws UnhandledRequestTypeException;

    GoPluginIdentifier pluginIdentifier();
}
