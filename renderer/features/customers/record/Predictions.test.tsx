// The prediction panel: what the model's factors mean in words, the model
// version and when it was scored, and "Looks wrong?" for CRMs, which sends the
// prediction's identity and the reason, says where it went, and keeps the text
// when sending fails. window.cims is a stand-in (renderer/test/standInBridge.ts).
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { detail } from '../../../dev/demo';
import { fail, installBridge, recordAnswers } from '../../../test/standInBridge';
import { renderApp } from '../../../test/render';
import { CustomerScreen } from './CustomerScreen';
import { factorSentence } from './Predictions';

const ORG = 'ORG-000001';
const record = recordAnswers(ORG);

const renderRecord = (canFlagPredictions: boolean) =>
  renderApp(<CustomerScreen orgId={ORG} canEdit={() => false} canFlagPredictions={canFlagPredictions} onEdit={() => undefined} onBack={() => undefined} />);

describe('the prediction panel', () => {
  it('says what each factor means, with the model version and when it was scored', async () => {
    installBridge(record);
    renderRecord(false);
    const churn = await screen.findByRole('region', { name: 'Churn risk' });
    expect(churn).toHaveTextContent('Model churn-logreg, version 2026.11.20-9b4ed27519f4 · scored');
    const factors = within(churn).getByRole('list', { name: 'Top factors for churn risk' });
    expect(factors).toHaveTextContent('Active users down 32% over the last 4 weeks, against the 4 before: raises the churn risk.');
    expect(factors).toHaveTextContent('38% of the seats in use on an average day: raises the churn risk.');
    expect(factors).toHaveTextContent('A customer for 3.4 years: lowers the churn risk.');
    expect(factors).toHaveTextContent('2.1 sessions a day per active user: barely moves the churn risk.');
    // Not a CRM: no feedback button.
    expect(within(churn).queryByRole('button', { name: /looks wrong/i })).not.toBeInTheDocument();
  });

  it('words a factor it has no value for by its name', () => {
    expect(factorSentence('upsell_propensity', 'usage_trend', 0.4, undefined)).toBe('Usage trend: raises the upsell propensity.');
  });

  it('sends "looks wrong" with a reason for the prediction shown, by keyboard, and says where it went', async () => {
    const bridge = installBridge({
      ...record,
      'customers:predictionFeedback': ({ orgId, feedback }) => ({
        id: '1', orgId, kind: feedback.kind, modelName: feedback.modelName, modelVersion: feedback.modelVersion,
        verdict: 'looks_wrong', reason: feedback.reason, createdAt: new Date().toISOString(),
      }),
    });
    const user = userEvent.setup();
    renderRecord(true);
    const churn = await screen.findByRole('region', { name: 'Churn risk' });
    await user.click(within(churn).getByRole('button', { name: 'Looks wrong? Churn risk' }));
    const box = within(churn).getByRole('textbox', { name: 'What looks wrong about this churn risk?' });
    expect(box).toHaveFocus();
    expect(within(churn).getByRole('button', { name: 'Send to data scientists' })).toBeDisabled();
    // Pasted, not typed key by key: the test is about the form, and typing 40 keys is slow on a loaded machine.
    await user.click(box);
    await user.paste('They signed a three-year renewal last week');
    await user.keyboard('{Tab}{Enter}');
    expect(await within(churn).findByRole('status')).toHaveTextContent('went to the data scientists, with model version 2026.11.20-9b4ed27519f4');
    const [sent] = bridge.inputsOf('customers:predictionFeedback');
    const shown = detail(ORG).predictions.find((p) => p.kind === 'churn_risk')!;
    expect(sent).toEqual({
      orgId: ORG,
      feedback: { kind: 'churn_risk', modelName: 'churn-logreg', modelVersion: shown.modelVersion, scoredAt: expect.any(String), verdict: 'looks_wrong', reason: 'They signed a three-year renewal last week' },
    });
  });

  it('keeps the reason and says why when sending fails', async () => {
    installBridge({ ...record, 'customers:predictionFeedback': () => fail('unavailable', 'The API cannot be reached. Try again in a moment.') });
    const user = userEvent.setup();
    renderRecord(true);
    const upsell = await screen.findByRole('region', { name: 'Upsell propensity' });
    await user.click(within(upsell).getByRole('button', { name: 'Looks wrong? Upsell propensity' }));
    await user.click(within(upsell).getByRole('textbox'));
    await user.paste('Seats are capped by contract');
    await user.click(within(upsell).getByRole('button', { name: 'Send to data scientists' }));
    expect(await within(upsell).findByRole('alert')).toHaveTextContent('Not sent:');
    expect(within(upsell).getByRole('textbox')).toHaveValue('Seats are capped by contract');
  });
});
