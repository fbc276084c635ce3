import { Module, type DynamicModule } from '@nestjs/common';
import type { EventBus } from '@mlops/bus';
import { databaseAnswers, HealthController, readinessCheck } from '@mlops/http';
import { BusModule } from '@mlops/runtime';
import { DataSource } from 'typeorm';
import { ModelAliases } from './aliases/model-aliases';
import { ModelStages } from './aliases/model-stages';
import { ContentStore } from './artifacts/artifact-store';
import { CanaryVerdicts } from './canary/canary-verdicts';
import { CatalogEdits } from './catalog/catalog-edits';
import { Lineage } from './catalog/lineage';
import { ModelCatalog } from './catalog/model-catalog';
import { ModelOverview } from './catalog/model-overview';
import { VersionRegistrar } from './catalog/version-registrar';
import { CanaryConsumer } from './consumers/canary.consumer';
import { TrainingConsumer } from './consumers/training.consumer';
import { Deployments } from './deployments/deployments';
import { ServingReports } from './deployments/serving-reports';
import { QualityGate } from './gate/quality-gate';
import { LifecycleController } from './http/lifecycle.controller';
import { ModelsController } from './http/models.controller';
import { ModelVersionsController } from './http/model-versions.controller';
import { PolicyController } from './http/policy.controller';
import { RegisteredModelsController } from './http/registered-models.controller';
import { ReleasePolicies } from './policy/release-policies';
import { RegistryService } from './registry.service';
import { REGISTRY_SETTINGS, type RegistrySettings } from './registry.settings';
import { AliasRepository } from './store/alias.repository';
import { GateDecisionRepository } from './store/gate-decision.repository';
import { ModelVersionRepository } from './store/model-version.repository';
import { RegisteredModelRepository } from './store/registered-model.repository';
import { ReleasePolicyRepository } from './store/release-policy.repository';
import { OverviewRepository } from './store/overview.repository';
import { ServingStateRepository } from './store/serving-state.repository';
import { RegistryTransactions } from './store/registry.transactions';
import { ModelSources } from './tracking/model-source';
import { TrackedRegistration } from './tracking/tracked-registration';
import { TrackingClient } from './tracking/tracking-client';
import { TrainingRegistration } from './training/training-registration';

/** What startRegistry opens before the app: the database and the bus. */
export interface RegistryRuntime {
  dataSource: DataSource;
  bus: EventBus;
}

/**
 * The registry: catalog (models, versions, artifacts), aliases (promote, rollback), the
 * quality gate, the HTTP API and the bus consumers (training.completed; canary verdicts).
 */
@Module({})
export class RegistryModule {
  static forRoot(settings: RegistrySettings, runtime: RegistryRuntime): DynamicModule {
    return {
      module: RegistryModule,
      imports: [BusModule.forRoot(runtime.bus)],
      // TrainingConsumer first: its group subscribes first, as before the module.
      controllers: [RegisteredModelsController, ModelVersionsController, ModelsController, LifecycleController, PolicyController, HealthController, TrainingConsumer, CanaryConsumer],
      providers: [
        { provide: REGISTRY_SETTINGS, useValue: settings },
        { provide: DataSource, useValue: runtime.dataSource },
        readinessCheck(databaseAnswers(runtime.dataSource)),
        { provide: ContentStore, useFactory: (s: RegistrySettings) => new ContentStore(s.artifacts.root), inject: [REGISTRY_SETTINGS] },
        RegistryTransactions,
        RegisteredModelRepository,
        ModelVersionRepository,
        AliasRepository,
        GateDecisionRepository,
        ReleasePolicyRepository,
        ServingStateRepository,
        OverviewRepository,
        ModelCatalog,
        ModelOverview,
        CatalogEdits,
        VersionRegistrar,
        TrackingClient,
        ModelSources,
        TrackedRegistration,
        ModelStages,
        Lineage,
        ModelAliases,
        ReleasePolicies,
        QualityGate,
        TrainingRegistration,
        CanaryVerdicts,
        ServingReports,
        Deployments,
        RegistryService,
      ],
    };
  }
}
