import type { PropertyDef } from '../agents/profile-properties.js';
import { escapeHtml } from '../html.js';

/** GoCD's plugin metadata list: `[{key, metadata: {required, secure}}]`. */
export function metadataOf(
  defs: readonly PropertyDef[],
): { key: string; metadata: { required: boolean; secure: boolean } }[] {
  return defs.map((d) => ({ key: d.key, metadata: { required: d.required === true, secure: d.secure === true } }));
}

/**
 * A GoCD profile form. GoCD renders plugin templates with AngularJS: each field binds `ng-model="<key>"`, and
 * server-side validation messages appear through `GOINPUTNAME[<key>].$error.server`.
 */
export function profileView(title: string, defs: readonly PropertyDef[]): string {
  const fields = defs.map((d) => {
    const k = escapeHtml(d.key);
    const err = `GOINPUTNAME[${k}].$error.server`;
    const required = d.required ? '<span class="asterix">*</span>' : '';
    let input: string;
    if (d.options) {
      const opts = [
        '<option value="">(default)</option>',
        ...d.options.map((o) => `<option value="${escapeHtml(o)}">${escapeHtml(o)}</option>`),
      ];
      input = `<select ng-model="${k}" ng-class="{'is-invalid-input': ${err}}">${opts.join('')}</select>`;
    } else if (d.kind === 'bool') {
      input = `<select ng-model="${k}" ng-class="{'is-invalid-input': ${err}}"><option value="">(default: false)</option><option value="true">true</option><option value="false">false</option></select>`;
    } else if (d.multiline) {
      input = `<textarea ng-model="${k}" rows="4" ng-class="{'is-invalid-input': ${err}}"></textarea>`;
    } else {
      input = `<input type="${d.secure ? 'password' : 'text'}" ng-model="${k}" ng-required="${d.required === true}" ng-class="{'is-invalid-input': ${err}}"/>`;
    }
    return [
      '<div class="form_item_block">',
      `  <label ng-class="{'is-invalid-label': ${err}}">${escapeHtml(d.label)} <code>${k}</code>${required}</label>`,
      `  ${input}`,
      `  <span class="form_error form-error" ng-class="{'is-visible': ${err}}" ng-show="${err}">{{${err}}}</span>`,
      `  <span class="form_help">${escapeHtml(d.help)}</span>`,
      '</div>',
    ].join('\n');
  });
  return `<div class="gocd-agent-scaler-form">\n<h4>${escapeHtml(title)}</h4>\n${fields.join('\n')}\n</div>`;
}
