package dev.meshlog.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.regex.Matcher;
import java.util.regex.PatternSyntaxException;

import org.junit.jupiter.api.Test;

class Re2RegexTest {

  @Test
  void compilesAnRe2NamedGroupAsJavasNamedGroup() {
    Matcher m = Re2Regex.compile("^/v(?P<version>\\d+)/.*$").matcher("/v12/reviews");
    assertThat(m.matches()).isTrue();
    assertThat(m.group("version")).isEqualTo("12");
    assertThat(m.group(1)).isEqualTo("12");
  }

  @Test
  void aNameJavaRefusesBecomesAPlainGroupWithTheSameNumber() {
    assertThat(Re2Regex.toJava("(?P<api_version>v\\d)/(?P<2nd>x)")).isEqualTo("(v\\d)/(x)");
    Matcher m = Re2Regex.compile("(?P<api_version>v\\d)/(?P<rest>.*)").matcher("v2/a/b");
    assertThat(m.matches()).isTrue();
    assertThat(m.group(1)).isEqualTo("v2");
    assertThat(m.group("rest")).isEqualTo("a/b");
  }

  @Test
  void leavesALiteralPInsideAClassAnEscapeOrAQuotation() {
    assertThat(Re2Regex.toJava("[(?P<x>]")).isEqualTo("[(?P<x>]");
    assertThat(Re2Regex.toJava("[]](?P<x>a)")).isEqualTo("[]](?<x>a)");
    assertThat(Re2Regex.toJava("[[:alpha:]](?P<x>a)")).isEqualTo("[[:alpha:]](?<x>a)");
    assertThat(Re2Regex.toJava("\\(?P<x>a)")).isEqualTo("\\(?P<x>a)");
    assertThat(Re2Regex.toJava("\\Q(?P<x>\\E(?P<y>b)")).isEqualTo("\\Q(?P<x>\\E(?<y>b)");
  }

  @Test
  void passesARegexWithoutNamedGroupsAsWritten() {
    assertThat(Re2Regex.toJava("^/ratings/[0-9]+$")).isEqualTo("^/ratings/[0-9]+$");
    assertThat(Re2Regex.compile("(?<n>a)").matcher("a").matches()).isTrue();
  }

  @Test
  void anErrorNamesTheUsersRegexAndItsIndexInIt() {
    assertThatThrownBy(() -> Re2Regex.compile("(?P<v>a)(?P<w>b"))
        .isInstanceOf(PatternSyntaxException.class)
        .satisfies(e -> {
          PatternSyntaxException p = (PatternSyntaxException) e;
          assertThat(p.getPattern()).isEqualTo("(?P<v>a)(?P<w>b");
          assertThat(p.getIndex()).isEqualTo(15);
        });
    assertThatThrownBy(() -> Re2Regex.compile("(?P<a_b>x)(")).isInstanceOf(PatternSyntaxException.class)
        .satisfies(e -> assertThat(((PatternSyntaxException) e).getIndex()).isEqualTo(11));
  }
}
