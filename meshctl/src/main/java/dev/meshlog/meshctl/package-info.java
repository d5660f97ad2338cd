/** meshctl, the command-line tool of the mesh: its picocli commands and their output. */
package dev.meshlog.meshctl;
