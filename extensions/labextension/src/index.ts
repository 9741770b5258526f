// The aqtra-nb JupyterLab extension: a left panel of runs (live), commands in the palette.
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { DocumentWidget } from '@jupyterlab/docregistry';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { AqtraApi, RunInfo } from './api';
import { FACTORY, FILE_TYPE, FlowCanvas, FlowEditorFactory } from './editor-widget';
import { IFlowActions } from './flow-editor';
import { notebookCell } from './format';
import { RunsPanel } from './runs-panel';
import { scheduleFile } from './schedule-dialog';

const FLOW_ICON = new LabIcon({
  name: 'aqtra-nb:flow',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<rect x="2" y="3" width="7" height="5" rx="1"/><rect x="15" y="9" width="7" height="5" rx="1"/>' +
    '<rect x="2" y="16" width="7" height="5" rx="1"/><path d="M9 5.5h3v5h3v1h-4v-5H9zM9 18.5h3v-5h3v-1h-4v5H9z"/>' +
    '</g></svg>'
});

export const COMMANDS = {
  showRuns: 'aqtra:show-runs',
  showLog: 'aqtra:show-run-log',
  newFlow: 'aqtra:new-flow',
  schedule: 'aqtra:schedule-file',
  runFlow: 'aqtra:flow-run',
  openInNotebook: 'aqtra:flow-open-in-notebook',
  fitFlow: 'aqtra:flow-fit',
  undoFlow: 'aqtra:flow-undo',
  redoFlow: 'aqtra:flow-redo',
  renameStep: 'aqtra:flow-rename-step',
  deleteStep: 'aqtra:flow-delete-step',
  flowParameters: 'aqtra:flow-parameters',
  saveFlow: 'aqtra:flow-save',
  scheduleFlow: 'aqtra:flow-schedule'
};

/** The flow editor's commands: label, the editor action, and a shortcut where there is one. */
const FLOW_COMMANDS: [string, string, (actions: IFlowActions) => unknown, string[]?][] = [
  [COMMANDS.runFlow, 'Run Flow', a => a.run(), ['Accel Enter']],
  [COMMANDS.openInNotebook, 'Open Flow in Notebook', a => a.openInNotebook()],
  [COMMANDS.fitFlow, 'Fit Flow to View', a => a.fit(), ['Accel Shift F']],
  [COMMANDS.undoFlow, 'Undo Flow Edit', a => a.undo()],
  [COMMANDS.redoFlow, 'Redo Flow Edit', a => a.redo()],
  [COMMANDS.renameStep, 'Rename Selected Step', a => a.renameSelected(), ['F2']],
  [COMMANDS.deleteStep, 'Delete Selected Step', a => a.deleteSelected()],
  [COMMANDS.flowParameters, 'Edit Run Parameters', a => a.editParameters(), ['Accel Shift P']]
];

const NEW_FLOW = 'flow: untitled\nparameters: {}\nsteps: []\n';

function logWidget(api: AqtraApi, run: RunInfo): MainAreaWidget {
  const content = new Widget({ node: document.createElement('pre') });
  content.addClass('aqtra-run-log');
  content.node.textContent = 'loading…';
  api.runLog(run.id).then(
    text => (content.node.textContent = text || '(the log is empty)'),
    reason => (content.node.textContent = `cannot read the log: ${reason.message ?? reason}`)
  );
  const widget = new MainAreaWidget({ content });
  widget.id = `aqtra-log-${run.id}`;
  widget.title.label = `Log ${run.name} ${run.id.slice(0, 8)}`;
  widget.title.closable = true;
  return widget;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: '@aqtra-nb/labextension:plugin',
  description: 'aqtra-nb: runs, jobs and tasks in JupyterLab.',
  autoStart: true,
  optional: [ICommandPalette, ILayoutRestorer, ILauncher, IFileBrowserFactory, IMainMenu],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    launcher: ILauncher | null,
    browsers: IFileBrowserFactory | null,
    mainMenu: IMainMenu | null
  ) => {
    const api = new AqtraApi();
    registerEditor(app, api, palette, launcher, () => browsers?.tracker.currentWidget?.model.path ?? '');
    mainMenu?.fileMenu.newMenu.addGroup([{ command: COMMANDS.newFlow }], 30);
    app.commands.addCommand(COMMANDS.schedule, {
      label: 'Schedule…',
      caption: 'Run this notebook or flow on a schedule (a job)',
      execute: async args => {
        const selected = browsers?.tracker.currentWidget?.selectedItems().next();
        const path = String(args.path ?? (selected && !selected.done ? selected.value.path : ''));
        if (path) {
          await scheduleFile(api, path);
        }
      }
    });
    for (const type of ['notebook', FILE_TYPE]) {
      app.contextMenu.addItem({
        command: COMMANDS.schedule,
        selector: `.jp-DirListing-item[data-file-type="${type}"]`,
        rank: 20
      });
    }
    const showLog = (run: RunInfo) => void app.commands.execute(COMMANDS.showLog, { id: run.id, name: run.name });
    const showOutput = (run: RunInfo) => {
      const frame = document.createElement('iframe');
      frame.src = api.outputUrl(run.id);
      frame.setAttribute('sandbox', ''); // the run's HTML, shown without running its scripts
      frame.className = 'aqtra-run-output';
      const widget = new MainAreaWidget({ content: new Widget({ node: frame }) });
      widget.id = `aqtra-output-${run.id}`;
      widget.title.label = `Output ${run.name} ${run.id.slice(0, 8)}`;
      widget.title.closable = true;
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
    };
    const panel = new RunsPanel(api, showLog, showOutput);
    panel.id = 'aqtra-runs';
    panel.title.icon = FLOW_ICON;
    panel.title.caption = 'aqtra-nb runs';
    app.shell.add(panel, 'left', { rank: 600 });
    restorer?.add(panel, 'aqtra-runs');

    app.commands.addCommand(COMMANDS.showRuns, {
      label: 'aqtra-nb: Show Runs',
      execute: () => app.shell.activateById(panel.id)
    });
    app.commands.addCommand(COMMANDS.showLog, {
      label: 'aqtra-nb: Show Run Log',
      execute: args => {
        const run = { id: String(args.id), name: String(args.name ?? args.id) } as RunInfo;
        const widget = logWidget(api, run);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
      }
    });
    palette?.addItem({ command: COMMANDS.showRuns, category: 'aqtra-nb' });
  }
};

function registerEditor(
  app: JupyterFrontEnd,
  api: AqtraApi,
  palette: ICommandPalette | null,
  launcher: ILauncher | null,
  browsedFolder: () => string
): void {
  app.docRegistry.addFileType({
    name: FILE_TYPE,
    displayName: 'aqtra-nb flow',
    extensions: ['.flow.yaml', '.flow.yml', '.flow.json'],
    mimeTypes: ['text/x-yaml'],
    contentType: 'file',
    fileFormat: 'text',
    icon: FLOW_ICON
  });
  const openInNotebook = async (path: string, parameters: Record<string, unknown>): Promise<void> => {
    // A new notebook next to the flow, with one cell that loads the flow, runs it and shows the result.
    const panel: any = await app.commands.execute('notebook:create-new', {
      cwd: PathExt.dirname(path),
      kernelName: 'python3'
    });
    await panel.context.ready;
    panel.content.model.sharedModel.getCell(0).setSource(notebookCell(PathExt.basename(path), parameters));
    await panel.sessionContext.ready;
    panel.content.activeCellIndex = 0;
    app.shell.activateById(panel.id);
    await app.commands.execute('notebook:run-cell');
  };
  const factory = new FlowEditorFactory(
    { name: FACTORY, label: 'Flow Editor', fileTypes: [FILE_TYPE], defaultFor: [FILE_TYPE], modelName: 'text' },
    api,
    openInNotebook
  );
  const tracker = new WidgetTracker<DocumentWidget<FlowCanvas>>({ namespace: 'aqtra-flow-editor' });
  factory.widgetCreated.connect((_, widget) => {
    widget.title.icon = FLOW_ICON;
    void tracker.add(widget);
  });
  app.docRegistry.addWidgetFactory(factory);
  const current = (): IFlowActions | null =>
    tracker.currentWidget && tracker.currentWidget === app.shell.currentWidget ? tracker.currentWidget.content.actions : null;
  for (const [id, label, act, keys] of FLOW_COMMANDS) {
    app.commands.addCommand(id, {
      label: args => (args.isPalette ? `aqtra-nb: ${label}` : label),
      isEnabled: () => current() !== null,
      execute: () => {
        const actions = current();
        return actions ? act(actions) : undefined;
      }
    });
    palette?.addItem({ command: id, category: 'aqtra-nb', args: { isPalette: true } });
    if (keys) {
      app.commands.addKeyBinding({ command: id, keys, selector: '.aqtra-flow-editor-widget' });
    }
  }
  app.commands.addCommand(COMMANDS.saveFlow, {
    label: args => (args.isPalette ? 'aqtra-nb: Save Flow' : 'Save Flow'),
    isEnabled: () => current() !== null,
    execute: () => app.commands.execute('docmanager:save')
  });
  app.commands.addCommand(COMMANDS.scheduleFlow, {
    label: args => (args.isPalette ? 'aqtra-nb: Schedule Flow…' : 'Schedule Flow…'),
    isEnabled: () => current() !== null,
    execute: () => app.commands.execute(COMMANDS.schedule, { path: tracker.currentWidget?.context.path ?? '' })
  });
  palette?.addItem({ command: COMMANDS.saveFlow, category: 'aqtra-nb', args: { isPalette: true } });
  palette?.addItem({ command: COMMANDS.scheduleFlow, category: 'aqtra-nb', args: { isPalette: true } });

  app.commands.addCommand(COMMANDS.newFlow, {
    label: args => (args.isPalette ? 'aqtra-nb: New Flow' : 'Flow'),
    caption: 'A new flow file, opened in the visual editor',
    icon: args => (args.isPalette ? undefined : FLOW_ICON),
    execute: async args => {
      const cwd = String(args.cwd ?? browsedFolder());
      const model = await app.serviceManager.contents.newUntitled({ path: cwd, type: 'file', ext: '.flow.yaml' });
      await app.serviceManager.contents.save(model.path, { type: 'file', format: 'text', content: NEW_FLOW });
      return app.commands.execute('docmanager:open', { path: model.path, factory: FACTORY });
    }
  });
  palette?.addItem({ command: COMMANDS.newFlow, category: 'aqtra-nb', args: { isPalette: true } });
  launcher?.add({ command: COMMANDS.newFlow, category: 'Other', rank: 1 });
}

export default plugin;
