package dev.resnetzoo.zoo.download;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * A loopback-only HTTP server for the download tests: serves byte arrays with Range support and can
 * misbehave on demand (fail with a status, cut a body short, stall, ignore Range, hold requests).
 */
final class TestServer implements AutoCloseable {

    /** One request as the server saw it. */
    record Request(String path, String range, int status, long bytesSent) {
    }

    /** A served file and how to misbehave when serving it; fields may be changed between requests. */
    static final class Route {
        final byte[] content;
        final AtomicInteger hits = new AtomicInteger();
        /** Counted down when the first request for this route arrives. */
        final CountDownLatch arrived = new CountDownLatch(1);
        /** Answer this many requests with {@link #failStatus} before serving. */
        volatile int failuresLeft;
        volatile int failStatus = 503;
        /** First body only: send this many bytes of a larger Content-Length, then drop the connection. */
        volatile int truncateOnceAt = -1;
        /** First body only: send this many bytes, then stop sending (until the server is closed). */
        volatile int stallOnceAt = -1;
        /** Answer Range requests with the whole file and status 200. */
        volatile boolean ignoreRange;
        /** If set, requests wait here (up to 10 s) before anything is sent. */
        volatile CountDownLatch gate;
        /** Send the content over and over, chunked (no Content-Length), until the client goes away. */
        volatile boolean endless;
        /** If positive, send the body one byte per this many milliseconds. */
        volatile long dripMillis;

        Route(byte[] content) {
            this.content = content;
        }
    }

    private final HttpServer server;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "test-http-server");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Route> routes = new ConcurrentHashMap<>();
    private final Map<String, String> redirects = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final CountDownLatch closing = new CountDownLatch(1);

    private TestServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(pool);
        server.createContext("/", this::handle);
        server.start();
    }

    static TestServer start() throws IOException {
        return new TestServer();
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    Route serve(String path, byte[] content) {
        Route route = new Route(content);
        routes.put(path, route);
        return route;
    }

    /** Answers requests for {@code from} with {@code 302 Found} pointing at {@code to}. */
    void redirect(String from, String to) {
        redirects.put(from, to);
    }

    List<Request> requests() {
        return List.copyOf(requests);
    }

    List<Request> requests(String path) {
        return requests.stream().filter(r -> r.path().equals(path)).collect(Collectors.toList());
    }

    @Override
    public void close() {
        closing.countDown();
        for (Route route : routes.values()) {
            CountDownLatch gate = route.gate;
            if (gate != null) {
                gate.countDown();
            }
        }
        server.stop(0);
        pool.shutdownNow();
        try {
            pool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        String range = exchange.getRequestHeaders().getFirst("Range");
        Route route = routes.get(path);
        try (exchange) {
            String location = redirects.get(path);
            if (location != null) {
                exchange.getResponseHeaders().set("Location", location);
                requests.add(new Request(path, range, 302, 0));
                exchange.sendResponseHeaders(302, -1);
                return;
            }
            if (route == null) {
                requests.add(new Request(path, range, 404, 0));
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            route.hits.incrementAndGet();
            route.arrived.countDown();
            CountDownLatch gate = route.gate;
            if (gate != null) {
                await(gate);
            }
            if (route.failuresLeft > 0) {
                route.failuresLeft--;
                requests.add(new Request(path, range, route.failStatus, 0));
                exchange.sendResponseHeaders(route.failStatus, -1);
                return;
            }
            byte[] content = route.content;
            int start = 0;
            int status = 200;
            exchange.getResponseHeaders().set("Accept-Ranges", "bytes");
            exchange.getResponseHeaders().set("ETag", "\"v1\"");
            exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
            if (range != null && !route.ignoreRange) {
                start = Integer.parseInt(range.replaceFirst("^bytes=(\\d+)-$", "$1"));
                if (start >= content.length) {
                    exchange.getResponseHeaders().set("Content-Range", "bytes */" + content.length);
                    requests.add(new Request(path, range, 416, 0));
                    exchange.sendResponseHeaders(416, -1);
                    return;
                }
                status = 206;
                exchange.getResponseHeaders().set("Content-Range",
                        "bytes " + start + "-" + (content.length - 1) + "/" + content.length);
            }
            int length = content.length - start;
            int limit = length;
            boolean truncate = false;
            boolean stall = false;
            if (route.truncateOnceAt >= 0) {
                limit = Math.min(length, route.truncateOnceAt);
                route.truncateOnceAt = -1;
                truncate = true;
            } else if (route.stallOnceAt >= 0) {
                limit = Math.min(length, route.stallOnceAt);
                route.stallOnceAt = -1;
                stall = true;
            }
            if (route.endless) {
                requests.add(new Request(path, range, 200, -1));
                exchange.sendResponseHeaders(200, 0);
                OutputStream out = exchange.getResponseBody();
                while (closing.getCount() > 0) {
                    out.write(content);
                    out.flush();
                }
                return;
            }
            // Recorded before anything is sent, so a client that has seen the response also sees the record.
            requests.add(new Request(path, range, status, limit));
            exchange.sendResponseHeaders(status, length);
            OutputStream out = exchange.getResponseBody();
            if (route.dripMillis > 0) {
                for (int off = 0; off < limit && closing.getCount() > 0; off++) {
                    out.write(content[start + off]);
                    out.flush();
                    closing.await(route.dripMillis, TimeUnit.MILLISECONDS);
                }
                return;
            }
            for (int off = 0; off < limit; off += 16384) {
                out.write(content, start + off, Math.min(16384, limit - off));
            }
            out.flush();
            if (stall) {
                await(closing);
            }
            if (truncate || stall) {
                // Closing a fixed-length body early drops the connection: the client sees a short body.
                exchange.close();
            }
        } catch (IOException e) {
            // The client went away (e.g. it cancelled after a read timeout): nothing to do.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
