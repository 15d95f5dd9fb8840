package io.kafkascenarios.jmh; final class Placeholder {}
