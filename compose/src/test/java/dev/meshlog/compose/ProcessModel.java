package dev.meshlog.compose;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** What a process accepts on its command line and in its environment, and where it then listens. */
interface ProcessModel {

  /**
   * Reads {@code args} and {@code env} as the process would.
   *
   * @throws IllegalArgumentException naming the flag or variable the process does not accept, or
   *     a value it cannot read
   */
  Parsed parse(List<String> args, Map<String, String> env);

  /** A parsed command line. */
  interface Parsed {

    /** The effective value of an option (flag, else environment, else default); null if none. */
    String value(String option);

    /** The ports the process listens on with this command line. */
    Set<Integer> listeningPorts();
  }
}
