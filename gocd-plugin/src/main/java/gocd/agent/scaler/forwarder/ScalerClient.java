package gocd.agent.scaler.forwarder;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The one HTTP client to the service: thread-safe, shared by every GoCD thread that calls the plugin. */
final class ScalerClient {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration REQUEST_DEADLINE = Duration.ofSeconds(30);

    /** The service's answer. */
    static final class Reply {
        final int status;
        final String body;

        Reply(int status, String body) {
            this.status = status;
            this.body = body;
        }

        boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    /** The exchange did not complete: refused, reset, timed out. The message is safe to log (no token, no body). */
    static final class ForwardException extends Exception {
        private static final long serialVersionUID = 1L;

        ForwardException(String message) {
            super(message);
        }
    }

    private final ForwarderSettings settings;
    private final HttpClient http;
    private final Duration deadline;

    ScalerClient(ForwarderSettings settings, Duration connectTimeout, Duration deadline) {
        this.settings = settings;
        this.deadline = deadline;
        // HTTP/1.1 explicitly: the default (HTTP/2) would send an h2c upgrade on plain http, which the service does not do.
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    HttpClient http() {
        return http;
    }

    Duration deadline() {
        return deadline;
    }

    /** POSTs the body verbatim (an absent body as an empty one) and waits at most the deadline for the whole answer. */
    Reply post(String requestName, String body) throws ForwardException {
        HttpRequest request = HttpRequest.newBuilder(settings.requestUri(requestName))
                .timeout(deadline)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .header("Authorization", "Bearer " + settings.token())
                .POST(HttpRequest.BodyPublishers.ofString(body == null ? "" : body, StandardCharsets.UTF_8))
                .build();
        CompletableFuture<HttpResponse<String>> exchange =
                http.sendAsync(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        try {
            // HttpRequest.timeout stops at the response headers; a body that trickles in would hold one of GoCD's few
            // plugin threads (one for server-ping, five for create-agent) without end. This bounds the whole exchange.
            HttpResponse<String> response = exchange.get(deadline.toMillis(), TimeUnit.MILLISECONDS);
            return new Reply(response.statusCode(), response.body());
        } catch (TimeoutException e) {
            exchange.cancel(true);
            throw new ForwardException("no complete answer within " + deadline.toMillis() + " ms");
        } catch (InterruptedException e) {
            exchange.cancel(true);
            Thread.currentThread().interrupt();
            throw new ForwardException("interrupted while waiting for the answer");
        } catch (ExecutionException e) {
            throw new ForwardException(describe(e.getCause()));
        }
    }

    /** Exception class and message only: JDK HTTP messages name the host, never headers or bodies. */
    private static String describe(Throwable cause) {
        if (cause == null) return "unknown error";
        String message = cause.getMessage();
        String text = cause.getClass().getSimpleName() + (message == null || message.isBlank() ? "" : ": " + message);
        if (cause instanceof IOException && cause.getCause() != null && cause.getCause() != cause && message == null) {
            return text + " (" + describe(cause.getCause()) + ")";
        }
        return text;
    }
}
