package dev.meshlog.config.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import dev.meshlog.testkit.WithKafka;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that needs the real control plane running on the shared broker; see
 * {@link ControlPlaneExtension}. Implies {@link WithKafka}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@WithKafka
@ExtendWith(ControlPlaneExtension.class)
public @interface WithControlPlane {}
