// Compile-only declaration of a GoCD plugin API type, written from the public go-plugin-api signatures.
// GoCD provides the real class at runtime; this copy is never packaged into the plugin jar.
package com.thoughtworks.go.plugin.api;

import com.thoughtworks.go.plugin.api.request.GoApiRequest;
import com.thoughtworks.go.plugin.api.response.GoApiResponse;

public abstract class GoApplicationAccessor {
    public abstract GoApiResponse submit(GoApiRequest request);
}
