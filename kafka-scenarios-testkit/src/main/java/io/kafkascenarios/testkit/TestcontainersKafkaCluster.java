package io.kafkascenarios.testkit;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * A broker in a Docker container ({@code org.testcontainers.kafka.KafkaContainer}, image {@code apache/kafka}).
 * This is the only class of the test kit that refers to Testcontainers, an optional dependency: it is loaded
 * only when that provider is chosen ({@code -Dkafka.provider=testcontainers}), so users who do not choose it
 * need neither Testcontainers nor Docker. Mapped ports change when a container restarts, so
 * {@link #stop()}, {@link #kill()} and {@link #restart()} throw {@link UnsupportedOperationException};
 * {@link #close()} stops the container if this object started it.
 *
 * <p>Threads: any thread may call any method; {@link #createTopic} may run concurrently.
 */
public final class TestcontainersKafkaCluster extends UnmanagedKafkaCluster {

    /** The image used when {@code -Dkafka.image} is not set. */
    public static final String DEFAULT_IMAGE = "apache/kafka:4.1.1";

    private final KafkaContainer container;
    private final boolean owned;

    private TestcontainersKafkaCluster(KafkaContainer container, boolean owned) {
        super(container.getBootstrapServers());
        this.container = container;
        this.owned = owned;
    }

    /**
     * Whether Testcontainers finds a Docker engine. Any thread; may take a moment the first time.
     *
     * @return true if a container can be started
     */
    public static boolean dockerAvailable() {
        return DockerClientFactory.instance().isDockerAvailable();
    }

    /**
     * Starts a new container from the image and waits until Kafka is up. Any thread.
     *
     * @param image a Docker image name such as {@value #DEFAULT_IMAGE}
     * @return the running cluster; {@link #close()} stops the container
     * @throws IllegalStateException if Docker is not available
     */
    public static TestcontainersKafkaCluster start(String image) {
        if (!dockerAvailable()) {
            throw new IllegalStateException("no Docker engine available for Testcontainers (image " + image + ")");
        }
        KafkaContainer container = new KafkaContainer(DockerImageName.parse(image));
        container.start();
        return new TestcontainersKafkaCluster(container, true);
    }

    /**
     * Wraps a container someone else started (for example a {@code @Container} field); {@link #close()}
     * leaves it running. Any thread.
     *
     * @param runningContainer a started container
     * @return the cluster handle
     */
    public static TestcontainersKafkaCluster wrap(KafkaContainer runningContainer) {
        if (!runningContainer.isRunning()) {
            throw new IllegalStateException("the container is not running: " + runningContainer.getDockerImageName());
        }
        return new TestcontainersKafkaCluster(runningContainer, false);
    }

    @Override
    String description() {
        return "a Testcontainers broker (" + container.getDockerImageName() + ") at " + bootstrapServers()
                + ", whose ports change on restart";
    }

    /** Releases the Admin client and stops the container if {@link #start(String)} created it. Any thread. */
    @Override
    public void close() {
        try {
            super.close();
        } finally {
            if (owned) {
                container.stop();
            }
        }
    }

    @Override
    public String toString() {
        return "TestcontainersKafkaCluster[" + container.getDockerImageName() + ", " + bootstrapServers() + "]";
    }
}
