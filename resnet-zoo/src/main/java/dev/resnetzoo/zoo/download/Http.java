package dev.resnetzoo.zoo.download;

import java.net.Authenticator;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.time.Duration;

/**
 * The HTTP client of one {@link Downloader}, made on first use (a cached file needs none): the
 * JVM's proxies and authenticator, redirects followed except from https to http.
 */
final class Http {

    static final String USER_AGENT = "resnet-zoo-downloader (Java " + Runtime.version().feature() + ")";

    private final Duration connectTimeout;
    private volatile HttpClient client;

    Http(Duration connectTimeout) {
        this.connectTimeout = connectTimeout;
    }

    HttpClient client() {
        HttpClient c = client;
        if (c == null) {
            synchronized (this) {
                c = client;
                if (c == null) {
                    HttpClient.Builder b = HttpClient.newBuilder()
                            .connectTimeout(connectTimeout)
                            .followRedirects(HttpClient.Redirect.NORMAL);
                    ProxySelector proxies = ProxySelector.getDefault();
                    if (proxies != null) {
                        b.proxy(proxies);
                    }
                    Authenticator authenticator = Authenticator.getDefault();
                    if (authenticator != null) {
                        b.authenticator(authenticator);     // e.g. for proxy authentication
                    }
                    client = c = b.build();
                }
            }
        }
        return c;
    }
}
