/**
 * A real Kafka broker for tests, without Docker: {@link io.kafkascenarios.testkit.EmbeddedKafkaBroker} (single-node
 * KRaft, in-process or in a child JVM that tests can SIGKILL and restart), the
 * {@link io.kafkascenarios.testkit.KafkaCluster} abstraction over it, an external cluster or a Testcontainers broker,
 * and the JUnit 5 {@link io.kafkascenarios.testkit.KafkaClusterExtension} that picks one from system properties.
 * Each type documents which threads may call what.
 */
package io.kafkascenarios.testkit;
