/** Reads a medication List and the MedicationStatements its live entries point to. */
import type { List, MedicationStatement } from '@medplum/fhirtypes';
import { unprocessable } from '../../fhir/outcome';
import type { RequestContext } from '../../interactions/types';
import type { StorageSession } from '../../storage/port';

export interface MedicationListWithItems {
  list: List & { id: string };
  statements: MedicationStatement[];
}

export async function readMedicationList(ctx: RequestContext, id: string, session?: StorageSession): Promise<MedicationListWithItems> {
  const { resource } = await ctx.services.repository.read('List', id, session);
  const list = resource as List & { id: string };
  const statements: MedicationStatement[] = [];
  for (const [i, entry] of (list.entry ?? []).entries()) {
    if (entry.deleted) continue;
    const reference = entry.item?.reference ?? '';
    const [type, itemId] = reference.split('/');
    if (type !== 'MedicationStatement' || !itemId) {
      throw unprocessable(`List/${id} entry ${i} does not reference a MedicationStatement (${reference || 'no reference'})`, `List.entry[${i}].item`);
    }
    const { resource: statement } = await ctx.services.repository.read('MedicationStatement', itemId, session);
    statements.push(statement as MedicationStatement);
  }
  return { list, statements };
}
