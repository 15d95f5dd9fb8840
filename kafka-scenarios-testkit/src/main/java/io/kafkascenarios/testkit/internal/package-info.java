/**
 * Implementation details of the test kit, not a supported API: where a broker runs
 * ({@code BrokerLauncher}: in process, or in a child JVM with its entry point {@code ChildBrokerMain}),
 * its files, and free ports.
 */
package io.kafkascenarios.testkit.internal;
