package dev.coffer.benchmarks.macro;

/** One side of a comparison: something that runs a case once and may clean up afterwards. */
interface Contender {

  /** Where this contender's requests can be counted. */
  enum Counting {
    /** The harness's SDK clients count them (in-process contenders). */
    CLIENT,
    /** The server's access log counts them (child processes); not every server keeps one. */
    SERVER,
    /** No S3 requests (local reads). */
    NONE
  }

  String name();

  Counting counting();

  /** Runs once; the time of this call is the measurement. */
  void run(int round) throws Exception;

  /** Undoes what {@link #run} stored, outside the measured time. */
  default void after(int round) throws Exception {}

  /** A contender from a name and two actions. */
  static Contender of(String name, Counting counting, Action run, Action after) {
    return new Contender() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public Counting counting() {
        return counting;
      }

      @Override
      public void run(int round) throws Exception {
        run.accept(round);
      }

      @Override
      public void after(int round) throws Exception {
        after.accept(round);
      }
    };
  }

  /** A step of a contender, given the round. */
  @FunctionalInterface
  interface Action {
    Action NOTHING = round -> {};

    void accept(int round) throws Exception;
  }
}
