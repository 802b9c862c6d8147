package gocd.agent.scaler.forwarder;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonSyntaxException;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;

/** Strict JSON in and out, with Gson's tree model only (no reflection, so nothing needs opening in GoCD's JVM). */
final class Json {
    private static final Gson GSON = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();
    private static final TypeAdapter<JsonElement> ELEMENT = GSON.getAdapter(JsonElement.class);

    private Json() {}

    /**
     * Parses one JSON document the way the service's JSON.parse does: strict (no comments, single quotes, NaN,
     * leading zeros or trailing data). Gson's own JsonParser switches to lenient mode, which would accept text the
     * service refuses, so the reader is driven directly.
     */
    static JsonElement parse(String text) {
        if (text == null) throw new JsonSyntaxException("no JSON text");
        try {
            JsonReader reader = new JsonReader(new StringReader(text));
            reader.setLenient(false);
            JsonElement element = ELEMENT.read(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) throw new JsonSyntaxException("data after the JSON value");
            return element;
        } catch (IOException | StackOverflowError e) {
            throw new JsonParseException("malformed JSON", e);
        }
    }

    /** Serializes a tree, keeping nulls and leaving {@code <>&=} unescaped, so re-written bodies stay as GoCD made them. */
    static String write(JsonElement element) {
        return GSON.toJson(element);
    }
}
