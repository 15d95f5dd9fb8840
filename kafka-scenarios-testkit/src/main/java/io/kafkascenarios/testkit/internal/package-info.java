/**
 * Implementation details of the test kit (the child-JVM broker's entry point); not a supported API.
 */
package io.kafkascenarios.testkit.internal;
