/**
 * MTM program enrolment as an EpisodeOfCare (profile mtm-program-enrolment): enrolling starts one
 * at the enrolment date; opting out ends it with the CMS reason. The Part D reports count from these.
 */
import type { Coding, EpisodeOfCare } from '@medplum/fhirtypes';
import { CODE_SYSTEM, MTM_BASE, PROFILE } from '../../conformance/canonical';
import { findMatches, inTransaction, lockCondition } from '../../interactions/conditional';
import { validateForWrite } from '../../interactions/resource-body';
import type { RequestContext } from '../../interactions/types';

export const OPT_OUT_EXTENSION = `${MTM_BASE}/StructureDefinition/mtm-opt-out-reason`;

export const OPT_OUT_REASONS: Readonly<Record<string, string>> = {
  '01': 'Death',
  '02': 'Disenrollment from the plan',
  '03': 'Request by beneficiary',
  '99': 'Other',
};

const episodeQuery = (patientId: string): Array<[string, string]> => [
  ['patient', `Patient/${patientId}`],
  ['type', `${CODE_SYSTEM.episodeType}|mtm-program`],
  ['status', 'active'],
];

export async function activeEnrolment(ctx: RequestContext, patientId: string): Promise<EpisodeOfCare | undefined> {
  return (await findMatches(ctx, 'EpisodeOfCare', episodeQuery(patientId), 1))[0] as EpisodeOfCare | undefined;
}

/** The patient's active enrolment, created (from `date`) when there is none. Safe to repeat. */
export async function enrol(ctx: RequestContext, patientId: string, date: string): Promise<{ episode: EpisodeOfCare; created: boolean }> {
  return inTransaction(ctx, undefined, async (session) => {
    await lockCondition(ctx, 'EpisodeOfCare', episodeQuery(patientId), session);
    const existing = (await findMatches(ctx, 'EpisodeOfCare', episodeQuery(patientId), 1, session))[0] as EpisodeOfCare | undefined;
    if (existing) return { episode: existing, created: false };
    const episode: EpisodeOfCare = {
      resourceType: 'EpisodeOfCare',
      meta: { profile: [PROFILE.programEnrolment] },
      status: 'active',
      type: [{ coding: [{ system: CODE_SYSTEM.episodeType, code: 'mtm-program', display: 'Medicare Part D MTM program enrolment' }] }],
      patient: { reference: `Patient/${patientId}` },
      period: { start: date },
    };
    const valid = await validateForWrite(ctx, episode, 'create');
    const stored = await ctx.services.repository.create(valid, { session });
    return { episode: stored.resource as EpisodeOfCare, created: true };
  });
}

/** Ends the active enrolment on `date` with the CMS opt-out reason. */
export async function optOut(ctx: RequestContext, episode: EpisodeOfCare, reason: string, date: string): Promise<EpisodeOfCare> {
  const coding: Coding = { system: CODE_SYSTEM.optOutReason, code: reason, display: OPT_OUT_REASONS[reason] };
  const ended: EpisodeOfCare = {
    ...episode,
    status: 'finished',
    period: { ...episode.period, end: date },
    extension: [...(episode.extension ?? []).filter((e) => e.url !== OPT_OUT_EXTENSION), { url: OPT_OUT_EXTENSION, valueCoding: coding }],
  };
  const valid = await validateForWrite(ctx, ended, 'update');
  const stored = await ctx.services.repository.update(valid as EpisodeOfCare & { id: string }, { ifMatch: Number(episode.meta?.versionId) });
  return stored.resource as EpisodeOfCare;
}
