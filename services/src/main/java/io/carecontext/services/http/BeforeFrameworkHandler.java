package io.carecontext.services.http;

import io.micronaut.http.server.netty.NettyServerCustomizer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Puts one handler of ours just before the framework's request handler in every connection's (and HTTP/2
 * stream's) pipeline, once: what {@link CompressedBodyEnd} and {@link RequestBodyLimits} each register, and had
 * each written out. {@code fits} says which framework handler it goes before (one kind only, or any).
 */
record BeforeFrameworkHandler(Channel channel, String name, Predicate<ChannelHandler> fits,
                              Supplier<ChannelHandler> handler) implements NettyServerCustomizer {

  /** The framework's request handler, which ours go before. */
  static final String FRAMEWORK_HANDLER = "micronaut-inbound-handler";

  /** The customizer to register: a fresh handler from {@code handler} for each pipeline whose framework handler fits. */
  static BeforeFrameworkHandler of(String name, Predicate<ChannelHandler> fits, Supplier<ChannelHandler> handler) {
    return new BeforeFrameworkHandler(null, name, fits, handler);
  }

  @Override
  public NettyServerCustomizer specializeForChannel(Channel channel, ChannelRole role) {
    return role == ChannelRole.CONNECTION || role == ChannelRole.REQUEST_STREAM
        ? new BeforeFrameworkHandler(channel, name, fits, handler) : this;
  }

  @Override
  public void onInitialPipelineBuilt() {
    add();
  }

  @Override
  public void onStreamPipelineBuilt() {
    add();
  }

  private void add() {
    ChannelHandler framework = channel == null ? null : channel.pipeline().get(FRAMEWORK_HANDLER);
    if (framework != null && fits.test(framework) && channel.pipeline().get(name) == null) {
      channel.pipeline().addBefore(FRAMEWORK_HANDLER, name, handler.get());
    }
  }
}
