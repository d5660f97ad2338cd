/**
 * The GitOps bridge: follows a branch of a git repository and turns each new commit's changed
 * resource files into apply and delete commands tagged with the commit, remembering in Kafka the
 * last commit it submitted.
 */
package dev.meshlog.config.gitops;
