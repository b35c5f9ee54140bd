package io.carecontext.retrieval.chat;

import io.carecontext.fhir.KnownIdentifiers;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.migrations.crypto.TenantCipher;
import io.carecontext.retrieval.ContextQuery;
import io.carecontext.retrieval.ContextResult;
import io.carecontext.retrieval.ContextService;
import io.carecontext.retrieval.Requester;
import io.carecontext.retrieval.RolePolicy;
import io.carecontext.retrieval.TenantPolicy;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.retrieval.deid.DatePolicy;
import io.carecontext.retrieval.deid.DeidResult;
import io.carecontext.retrieval.deid.Deidentifier;
import io.carecontext.retrieval.deid.IdentifierClass;
import io.carecontext.retrieval.deid.OutputPhiFilter;
import io.carecontext.retrieval.deid.Reidentifier;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Chat over one patient's record: the context path (same policy, consent, audit), then a minimal,
 * de-identified prompt to an allowlisted model, the answer filtered for identifiers the model was
 * never given, re-identified only for roles that may see identity, and the exchange audited
 * (prompt and response encrypted, hashed, with de-identification counts).
 */
public final class ChatService {

  private static final Pattern HANDLE = Pattern.compile("\\[(S\\d+)]");
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ChatService.class);
  private final ContextService context;
  private final LlmGateway gateway;
  private final AuditLog audit;
  private final TenantTransactions tx;
  private final TenantKeys keys;

  private final OutputFilter outputFilter;
  private final ModelCall modelCall;

  /**
   * The model call, {@link LlmGateway#call}: a test's may fail as no endpoint can make the gateway fail (an
   * Error, a bug), to show that such a failure still leaves the exchange's row.
   */
  interface ModelCall {
    LlmGateway.Reply call(TenantId tenant, String keyId, LlmEndpoint e, Prompt prompt, LlmGateway.Reservation reserved);
  }

  /** The answer to a question no record the caller may read answers; no model is asked. Names no patient. */
  public static final String NO_RECORDS_ANSWER = "No records were found for this question among the records this "
      + "key may read, so no model was asked. Asking it again in other words will not change that: the search finds "
      + "no record of this patient this key may read. Records written in the last moments may not be searchable "
      + "yet (see pending): ask again shortly.";
  /** The audit row's {@code modelNotCalledBecause} of such an answer. */
  static final String NO_SOURCES = "no_admitted_chunks";

  /** The scan of a model's answer for identifiers it was not given ({@link OutputPhiFilter#filter}). */
  public interface OutputFilter {
    OutputPhiFilter.Filtered filter(String answer, KnownIdentifiers known, boolean deidentified);
  }

  public ChatService(ContextService context, LlmGateway gateway, AuditLog audit, TenantTransactions tx, TenantKeys keys) {
    this(context, gateway, audit, tx, keys, OutputPhiFilter::filter);
  }

  /** With another output scan: a test's, to show what a scan that fails leaves in the trail. */
  public ChatService(ContextService context, LlmGateway gateway, AuditLog audit, TenantTransactions tx, TenantKeys keys,
                     OutputFilter outputFilter) {
    this(context, gateway, audit, tx, keys, outputFilter, gateway::call);
  }

  /** With another model call (a test's). */
  ChatService(ContextService context, LlmGateway gateway, AuditLog audit, TenantTransactions tx, TenantKeys keys,
              OutputFilter outputFilter, ModelCall modelCall) {
    this.context = context;
    this.gateway = gateway;
    this.audit = audit;
    this.tx = tx;
    this.keys = keys;
    this.outputFilter = outputFilter;
    this.modelCall = modelCall;
  }

  /**
   * The action of every row of a chat request, its retrieval's and its refusals' too: {@code chat-dry-run} for a
   * dry run, {@code chat} for a real one. A dry run's retrieval, and each of its refusals, was recorded
   * {@code chat}: an accounting by action counted those as chats and missed them among the dry runs.
   */
  public static String action(boolean dryRun) {
    return dryRun ? "chat-dry-run" : "chat";
  }

  /**
   * {@code topicVector} embeds each topic of a question that asks about several (null: the whole
   * question's cut-off alone), so that the prompt keeps the sources of every topic it names.
   * {@code questionModel}: the id of the model that embeds the question and its topics (see
   * {@link ContextQuery#model()}).
   */
  @SuppressWarnings("unchecked")
  public ChatOutcome chat(TenantId tenant, Map<String, Object> settings, Requester who, String pathId,
                          String question, Supplier<float[]> questionVector, String questionModel,
                          Function<String, float[]> topicVector,
                          String purpose, String reason, boolean reopenBreakGlass, boolean dryRun) {
    long start = System.nanoTime();
    TenantPolicy policy = TenantPolicy.fromSettings(settings);
    Map<String, Object> llm = settings.get("llm") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    // each topic embedded once: for its own search (as late as the question's) and for the cut-off after it
    Map<String, float[]> embedded = new java.util.concurrent.ConcurrentHashMap<>();
    Function<String, float[]> topicOnce = topicVector == null ? null : t -> embedded.computeIfAbsent(t, topicVector);
    ContextResult found = context.context(tenant, policy, who, pathId,
        new ContextQuery(question, questionVector, 20, purpose, reason, reopenBreakGlass,
            () -> topicEmbeddings(question, topicOnce), questionModel), action(dryRun));
    int budget = settings.get("contextTokenBudget") instanceof Number n ? n.intValue() : 2000;
    PromptBuilder.Selection selection = PromptBuilder.select(found.chunks(), topicScores(question, found, topicOnce),
        budget);
    // the patient served: for a researcher, the one its subject code stands for
    String patientId = found.patientId();
    // Re-identified only for the role whose policy served this request: a key that holds both
    // clinician and researcher and asks for research (HRESCH) is served as a researcher, and gets
    // the tokens, as does any role whose tenant policy says deidentifiedOnly.
    RolePolicy served = policy.roles().get(found.decidingRole());
    // The identifiers of what this request may read, judged under its own read settings: a dry run (and the
    // prompt it shows) must not depend on records the caller may not read (PatientIdentifiers.loadReadable).
    KnownIdentifiers known = served == null ? PatientIdentifiers.load(tx, keys, tenant, who, patientId)
        : PatientIdentifiers.loadReadable(tx, keys, tenant, who, patientId,
            ContextService.readSettings(policy, served, who, patientId, purpose));
    List<String> texts = new ArrayList<>(selection.texts());
    boolean mayIdentify = served != null && !served.deidentifiedOnly();
    // A prompt bound for an endpoint without a BAA (llm.allowDeidentifiedToNonBaa) leaves as Safe Harbor
    // de-identifies: every element of a date but the year removed. Under the default shift it carried
    // whole dates, moved by the patient's offset, which Safe Harbor does not allow (a shift is no removal,
    // and one true date the vendor knows gives every other back).
    // The endpoint is chosen once, here: the date policy is the one of the endpoint the prompt goes to. It
    // was chosen again before the call, so the policy applied and the endpoint used could disagree (settings
    // read twice). A choice refused is refused below, after the dry run, which shows the tenant's policy.
    Chosen chosen = choose(llm);
    DatePolicy dates = datePolicy(DatePolicy.fromSetting(settings.get("datePolicy")), mayIdentify,
        chosen.endpoint() == null || chosen.endpoint().baaCovered());
    int shift = dates == DatePolicy.SHIFT ? dateShift(keys.cipher(tenant), patientId) : 0;
    // The question is de-identified with the sources (one token map) for a caller who may see
    // identities and read demographics; for any other, on its own and without the patient's
    // identifiers (Deidentifier.blind), so that how it is treated cannot confirm a name, address or
    // record number it names: billing, which reads no demographics, saw its guesses turn into the
    // patient's own tokens in a dry run.
    boolean knowsDemographics = mayIdentify && served.categories().contains("demographic");
    if (knowsDemographics) {
      texts.add(question);
    }
    DeidResult deid = Deidentifier.deidentify(texts, known, dates, shift);
    DeidResult asked = knowsDemographics ? null : Deidentifier.blind(question);
    Prompt prompt = PromptBuilder.build(deid.texts().subList(0, selection.texts().size()), selection.handles(),
        knowsDemographics ? deid.texts().get(texts.size() - 1) : asked.texts().get(0));
    // the prompt as it leaves, system and user, as every row of the exchange holds it (so that hashes compare)
    String sent = prompt.system() + "\n\n" + prompt.user();
    AuditEntry base = AuditEntry.of(who.principal(), who.keyId(), who.roles(), patientId, purpose,
        action(dryRun), AuditEntry.Decision.ALLOWED, "allowed").withQuery(question);
    // The model exchange of a break-glass request is flagged for review like its retrieval row: a
    // reviewer filtering on the flag saw only half of the exchange.
    if (found.breakGlass()) {
      base = base.withBreakGlass(true, AuditEntry.BREAK_GLASS_REVIEW).withJustification(reason);
    }
    // A researcher's exchange rows name the subject code it asked with beside the patient it stands for, as
    // its retrieval row does: the model's row (dry run, answer, failure) named the patient alone.
    String subject = pathId.equals(patientId) ? "" : ",\"researchSubject\":" + AuditEntry.jsonString(pathId);
    if (!subject.isEmpty()) {
      base = base.withDetail("researchSubject", AuditEntry.jsonString(pathId));
    }
    // A role served de-identified gets the sources' handles (S1, S2…), not their resource ids: a record's
    // id is an identifier of the record (research search names none either).
    Map<String, String> cited = mayIdentify ? prompt.handles() : handlesOnly(prompt.handles());
    Map<IdentifierClass, Integer> deidCounts = new java.util.EnumMap<>(IdentifierClass.class);
    deidCounts.putAll(deid.counts());
    if (asked != null) {
      asked.counts().forEach((c, n) -> deidCounts.merge(c, n, Integer::sum));
    }
    String counts = json(deidCounts, Map.of(), subject);
    if (found.chunks().isEmpty()) {
      // Retrieval admitted nothing (the patient has no chunk yet, or none the caller's role and the patient's
      // consent let it read): a model asked without sources spends a call and can only make an answer up.
      // Answered here, a dry run too (with no prompt: none would leave), and the row says the model was not
      // called and why. The same 200 as an answer: the request was allowed, the record has nothing for it.
      var id = audit.record(tenant, base.withModel(null, null, null, json(deidCounts, Map.of(), subject
              + ",\"modelCalled\":false,\"modelNotCalledBecause\":\"" + NO_SOURCES + "\""))
          .withReviewFlags(found.breakGlass()));
      return new ChatOutcome(NO_RECORDS_ANSWER, List.of(), null, id, null, 0, 0, found.breakGlassUntil(),
          mayIdentify ? List.of() : null, found.pending());
    }
    if (dryRun) {
      var id = audit.record(tenant, base.withModel(null, sent, null, counts)
          .withReviewFlags(found.breakGlass()));
      // the resources behind [S1], [S2]… in that order, so the prompt's handles can be read
      return new ChatOutcome(null, List.copyOf(cited.values()), null, id,
          sent, 0, 0, found.breakGlassUntil(), mayIdentify ? sources(cited.values(), found) : null, found.pending());
    }
    LlmEndpoint endpoint;
    LlmGateway.Reservation reserved;
    try {
      if (chosen.refused() != null) {
        throw chosen.refused();
      }
      endpoint = chosen.endpoint();
      if (!io.carecontext.migrations.ModelHosts.isApprovedFor(tenant.value(), endpoint.baseUrl())) {
        // a setting stored before the operator approved hosts: nothing is sent to one it has not approved
        throw new ChatRefused(403, "model_not_allowed", "endpoint '" + endpoint.name() + "' is on a host the "
            + "platform operator has not approved for this tenant (" + io.carecontext.migrations.ModelHosts.VARIABLE
            + ")", 0);
      }
      reserved = gateway.reserve(tenant, who.keyId(), llm, endpoint, prompt);
    } catch (ChatRefused refused) {
      // What was refused and why, as a failed exchange's row says it: the row held the code alone, and an
      // auditor could not tell an endpoint without a BAA from one on a host the operator never approved, or
      // which endpoint it was. The caller's message, which names settings and never the patient or the prompt.
      AuditEntry denied = chosen.endpoint() == null ? base
          : base.withDetail("endpoint", AuditEntry.jsonString(chosen.endpoint().name()));
      audit.recordDenial(tenant, denied.withDetail("failure", AuditEntry.jsonString(refused.getMessage())),
          refused.code(), start);
      throw refused;
    }
    LlmGateway.Reply reply;
    try {
      reply = modelCall.call(tenant, who.keyId(), endpoint, prompt, reserved);
    } catch (RuntimeException | Error e) {
      // The prompt as it left (system and user, as the answered and dry-run rows hold it, so that its hash
      // compares with theirs), the endpoint it went to and what went wrong there: the row held the user
      // part alone, and no word of which endpoint failed or how. A failure that is not one of the ends the
      // gateway names (a bug, an Error: the gateway settled the charge and rethrew it, and the prompt may
      // have left) leaves the same row, with the class of what failed, never its message (which can quote
      // the prompt); it left none, and the caller a bare 500.
      ChatRefused answer = e instanceof ChatRefused failed ? failed
          : new ChatRefused(502, "model_unavailable", "the model endpoint '" + endpoint.name() + "' could not be "
              + "called (an unexpected failure); nothing was returned. "
              + LlmGateway.nextStep(endpoint.name()), 0);
      String failure = e instanceof ChatRefused failed ? failed.failure() : "the call failed unexpectedly ("
          + e.getClass().getSimpleName() + "); whether the endpoint answered is not known";
      String failedDetails = json(deidCounts, Map.of(), subject
          + ",\"endpoint\":" + AuditEntry.jsonString(endpoint.name())
          + (failure == null ? "" : ",\"failure\":" + AuditEntry.jsonString(failure)));
      recordFailure(tenant, base.withResult(AuditEntry.Decision.FAILED, answer.code(), List.of(), millis(start))
          .withModel(endpoint.model(), sent, null, failedDetails)
          .withReviewFlags(found.breakGlass()), e);
      throw answer;
    }
    // From here until its row is written, every step is held to one rule: the prompt has left, so the exchange
    // leaves its audit row whatever fails, an Error too. The scan caught RuntimeException alone: a
    // StackOverflowError from a pattern over a hostile answer skipped the row, and a prompt that had gone to a
    // model left no trail (and the caller a bare 500 from the framework).
    String stage = "the output identifier scan failed";
    String failReason = "output_filter_failed";
    try {
      // The model may take a minute; a key revoked (or expired) meanwhile gets nothing of the answer: API.md
      // revokes a key at once, and a chat in flight returned the re-identified answer to a key that the
      // database had stopped admitting. Answered as the read path answers a key it does not admit (the one
      // 404), and recorded as what it is, with the prompt that left and the answer that came back.
      stage = "the key could not be checked again";
      failReason = "answer_not_processed";
      if (!keyStillAdmitted(tenant, who)) {
        String notAdmitted = json(deidCounts, Map.of(), subject + ",\"endpoint\":"
            + AuditEntry.jsonString(reply.endpoint()) + ",\"promptTokens\":" + reply.promptTokens()
            + ",\"outputTokens\":" + reply.outputTokens());
        stage = null; // the row below is the exchange's row: nothing is recorded twice
        var id = audit.record(tenant, base.withResult(AuditEntry.Decision.DENIED, "key_not_admitted",
                found.chunks().stream().map(c -> c.chunkId()).toList(), millis(start))
            .withModel(reply.model(), sent, reply.text(), notAdmitted)
            .withReviewFlags(found.breakGlass()));
        throw new io.carecontext.retrieval.AccessDenied(404, "patient_not_found", pathId.equals(patientId)
            ? ContextService.NOT_FOUND : io.carecontext.retrieval.research.ResearchSubjects.NOT_FOUND,
            "key_not_admitted", id, 0);
      }
      // an answer that stays de-identified loses the facilities and store numbers the model wrote too
      stage = "the output identifier scan failed";
      failReason = "output_filter_failed";
      OutputPhiFilter.Filtered filtered = outputFilter.filter(reply.text(), known, !mayIdentify);
      stage = "the answer could not be prepared";
      failReason = "answer_not_processed";
      // the answer's handles numbered as its citations, so that [S1] is the first citation: they kept the
      // prompt's numbers, [S10] [S1] beside citations in order of first mention, which a caller could not pair
      Cited numbered = cite(filtered.text(), cited, mayIdentify);
      String answer = mayIdentify ? Reidentifier.reidentify(numbered.text(), deid.tokens(), shift)
          : Reidentifier.keepTokens(numbered.text(), deid.tokens());
      List<String> citations = numbered.citations();
      String details = json(deidCounts, filtered.redactions(), subject + ",\"endpoint\":\"" + reply.endpoint()
          + "\",\"promptTokens\":" + reply.promptTokens() + ",\"outputTokens\":" + reply.outputTokens());
      AuditEntry answered = base.withResult(AuditEntry.Decision.ALLOWED,
              filtered.redactions().isEmpty() ? "allowed" : "allowed_output_redacted",
              found.chunks().stream().map(c -> c.chunkId()).toList(), millis(start))
          .withModel(reply.model(), sent, reply.text(), details)
          .withReviewFlags(found.breakGlass());
      stage = "the exchange's audit row could not be written";
      var id = audit.record(tenant, answered);
      return new ChatOutcome(answer, citations, reply.model(), id, null, reply.promptTokens(), reply.outputTokens(),
          found.breakGlassUntil(), mayIdentify ? sources(citations, found) : null, found.pending());
    } catch (RuntimeException | Error e) {
      if (stage == null) {
        throw e; // the key's own denial (its row written), or that row's write failing: nothing more to record
      }
      // As the other rows of an exchange: the prompt that left, the answer that came back (encrypted and hashed,
      // as an answered row holds it), the endpoint and what the call cost, and the step that failed by the
      // class of what it threw, never its message (which can quote the answer).
      String failedDetails = json(deidCounts, Map.of(), subject
          + ",\"endpoint\":" + AuditEntry.jsonString(reply.endpoint())
          + ",\"promptTokens\":" + reply.promptTokens() + ",\"outputTokens\":" + reply.outputTokens()
          + ",\"failure\":" + AuditEntry.jsonString(stage + " (" + e.getClass().getSimpleName() + ")"));
      ChatRefused refused = "output_filter_failed".equals(failReason)
          ? new ChatRefused(500, "output_filter_failed", "the answer could not be checked for identifiers; "
              + "nothing was returned", 0)
          : new ChatRefused(500, "answer_not_processed", "the model's answer could not be processed; "
              + "nothing was returned", 0);
      recordFailure(tenant, base.withResult(AuditEntry.Decision.FAILED, failReason, List.of(), millis(start))
          .withModel(reply.model(), sent, reply.text(), failedDetails)
          .withReviewFlags(found.breakGlass()), e);
      throw refused;
    }
  }

  /**
   * The {@code failed} row of an exchange whose prompt has left. When the trail cannot take it either (the
   * database gone), the caller is still told only the refusal the row would have explained (not the write's
   * failure, whose message the framework would log and which can quote the answer), and one line says so,
   * naming the tenant, the action, the row's reason and the classes of both failures, never a message or a
   * trace: the exchange has no row, and nothing else tells an operator.
   */
  private void recordFailure(TenantId tenant, AuditEntry failed, Throwable cause) {
    try {
      audit.record(tenant, failed);
    } catch (RuntimeException | Error unrecorded) {
      LOG.error("a failed chat's audit row could not be written: tenant {}, action {}, reason {}, the write failed "
          + "with {} (the exchange with {}); the prompt left and the exchange has no audit row", tenant.value(),
          failed.action(), failed.reason(), unrecorded.getClass().getName(), cause.getClass().getName());
    }
  }

  /**
   * The tenant's date policy, except that a caller who must never see identities gets years. The
   * caller's own question is de-identified with the sources (so that "after 2024-01-01" means the same
   * thing to the model), and so it was an oracle: under shift, a researcher who sent a known date and
   * read it back from a dry run had the patient's offset, and with it every true date; under token, a
   * date of the question that is one of the record's got that date's token, so one request could test
   * hundreds of candidate dates. A year is what research search shows too (Safe Harbor).
   */
  static DatePolicy datePolicy(DatePolicy tenant, boolean mayIdentify) {
    return mayIdentify ? tenant : DatePolicy.YEAR;
  }

  /**
   * As {@link #datePolicy(DatePolicy, boolean)}, for a prompt bound for an endpoint that is
   * ({@code underBaa}) or is not covered by a BAA: years whatever the tenant's policy when it is not, as
   * Safe Harbor has dates.
   */
  static DatePolicy datePolicy(DatePolicy tenant, boolean mayIdentify, boolean underBaa) {
    return underBaa ? datePolicy(tenant, mayIdentify) : DatePolicy.YEAR;
  }

  /** The endpoint the tenant's settings choose for a de-identified prompt, or why none can be had. */
  private record Chosen(LlmEndpoint endpoint, ChatRefused refused) {}

  /**
   * The one choice of endpoint for this request: its BAA decides the date policy and it is the endpoint
   * the prompt is sent to. A refusal is kept, not thrown: a dry run still shows the prompt (under the
   * tenant's policy, as an endpoint covered by a BAA would get it), and a real request is refused with it.
   */
  private Chosen choose(Map<String, Object> llm) {
    try {
      return new Chosen(gateway.choose(llm, false), null);
    } catch (ChatRefused refused) {
      return new Chosen(null, refused);
    }
  }

  /**
   * The days by which a patient's dates move under {@code datePolicy} shift: 1 to 360 either way,
   * the same for every request about that patient, and secret (a keyed hash under the tenant's
   * data key). A new random shift for each request gave the true date away to anyone who could
   * repeat the request (a dry run shows the prompt; the model endpoint sees every prompt): the
   * midpoint of the earliest and latest shifted values seen closes in on it.
   */
  static int dateShift(TenantCipher cipher, String patientId) {
    byte[] h = cipher.contentHash(("carecontext/date-shift|" + patientId).getBytes(StandardCharsets.UTF_8));
    int days = Math.floorMod(ByteBuffer.wrap(h).getInt(), 360) + 1;
    return (h[4] & 1) == 0 ? days : -days;
  }

  /** Whether the database still admits the requester's key (live, of this tenant): one statement. */
  private boolean keyStillAdmitted(TenantId tenant, Requester who) {
    return tx.runOnce(tenant, io.carecontext.migrations.PolicySettings.read().build().withQualifiedNames()
            .withCaller(who.keyId(), who.keySecretHash()),
        io.carecontext.migrations.TenantSql.of(tenant, "SELECT EXISTS (SELECT 1 FROM {schema}.caller_key)"), List.of(),
        (c, rows) -> rows.next() && rows.getBoolean(1));
  }

  /**
   * Each cited resource with its clinical date as the record writes it, in the citations' order: a chat app
   * shows the clinician where each fact came from and when, and the citations named the resource alone (its
   * date was only in the prompt, shifted, and a clinician key reads no FHIR resource to look it up).
   */
  static List<ChatOutcome.Source> sources(java.util.Collection<String> citations, ContextResult found) {
    Map<String, String> dates = new java.util.HashMap<>();
    for (var c : found.chunks()) {
      if (c.effectiveDate() != null) {
        dates.putIfAbsent(c.resource(), c.effectiveDate().asWritten());
      }
    }
    return citations.stream().map(r -> new ChatOutcome.Source(r, dates.get(r))).toList();
  }

  /** Each handle standing for itself, in the same order. */
  static Map<String, String> handlesOnly(Map<String, String> handles) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    handles.keySet().forEach(h -> out.put(h, h));
    return out;
  }

  /** An answer whose source handles are numbered as its citations: {@code [Sn]} is {@code citations[n-1]}. */
  record Cited(String text, List<String> citations) {}

  /**
   * The sources the answer cites, in the order it first cites them, and the answer with each handle
   * renumbered to its place in that list: the prompt's [S10] cited first becomes [S1]. Handles of one
   * resource (an Encounter's two chunks) share its number. A handle the prompt did not carry (the model
   * invented [S99]) is {@link Reidentifier#UNRESOLVED}, as an invented token is: never guessed. When
   * {@code resourceIds} is false (a role served de-identified) each citation is the new handle itself.
   */
  static Cited cite(String answer, Map<String, String> handles, boolean resourceIds) {
    Map<String, Integer> numbers = new java.util.LinkedHashMap<>();
    Matcher m = HANDLE.matcher(answer);
    StringBuilder text = new StringBuilder();
    while (m.find()) {
      String r = handles.get(m.group(1));
      String replacement;
      if (r == null) {
        replacement = Reidentifier.UNRESOLVED;
      } else {
        replacement = "[S" + numbers.computeIfAbsent(r, x -> numbers.size() + 1) + "]";
      }
      m.appendReplacement(text, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(text);
    List<String> citations = resourceIds ? List.copyOf(numbers.keySet())
        : numbers.values().stream().map(n -> "S" + n).toList();
    return new Cited(text.toString(), citations);
  }

  /** Counts per class, never values: {"deid":{"NAME":2},"redacted":{"SSN":1}}. */
  static String json(Map<IdentifierClass, Integer> deid, Map<IdentifierClass, Integer> redacted) {
    return json(deid, redacted, "");
  }

  /** As {@link #json(Map, Map)}, with {@code more} members (",\"name\":value…") after the counts. */
  private static String json(Map<IdentifierClass, Integer> deid, Map<IdentifierClass, Integer> redacted, String more) {
    return "{\"deid\":" + counts(deid) + ",\"redacted\":" + counts(redacted) + more + "}";
  }

  private static String counts(Map<IdentifierClass, Integer> m) {
    return m.entrySet().stream().map(e -> "\"" + e.getKey().name() + "\":" + e.getValue())
        .collect(Collectors.joining(",", "{", "}"));
  }

  private static long millis(long start) {
    return (System.nanoTime() - start) / 1_000_000;
  }

  /**
   * Each retrieved chunk's score for each topic of the question; none for a one-topic question, or
   * when a topic cannot be embedded (the whole question's cut-off then decides alone, as before).
   */
  /** The embeddings of the question's topics, searched too; none for a one-topic question or when one cannot be embedded. */
  private static List<float[]> topicEmbeddings(String question, Function<String, float[]> embed) {
    if (embed == null) {
      return List.of();
    }
    try {
      List<float[]> vectors = QuestionTopics.of(question).stream().map(embed).toList();
      return vectors.contains(null) ? List.of() : vectors;
    } catch (RuntimeException e) {
      return List.of(); // the whole question's search alone, as before; the embedder logs its failure
    }
  }

  private static List<double[]> topicScores(String question, ContextResult found, Function<String, float[]> embed) {
    if (embed == null) {
      return List.of();
    }
    try {
      return QuestionTopics.scores(question, found.chunks(), embed);
    } catch (RuntimeException e) {
      return List.of(); // the embedder logs its failure; the question itself was embedded moments ago
    }
  }
}
